@testable import KafkaGateway
import NIOCore
import Testing

@Suite("Requests checked against their layout before the embedded cluster reads them")
struct RequestValidatorTests {
    static func header(_ apiKey: Int16, _ version: Int16) -> KafkaRequestHeader {
        KafkaRequestHeader(apiKey: apiKey, apiVersion: version, correlationID: 1, clientID: "t")
    }

    static func body(_ write: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var buffer = ByteBuffer()
        write(&buffer)
        return buffer
    }

    @Test("the frames that aborted the server are refused: 2^31-1 Metadata topics, -1 JoinGroup protocols, a negative string length")
    func forged() {
        let metadata = Self.body { $0.writeInteger(Int32.max) }
        #expect(throws: RequestValidator.Refusal.malformed(apiKey: 3, version: 1)) { try RequestValidator.validate(Self.header(3, 1), body: metadata) }
        let join = Self.body { buffer in
            buffer.writeKafkaString("team-1")
            buffer.writeInteger(Int32(6000))
            buffer.writeInteger(Int32(30000))
            buffer.writeKafkaString("")
            buffer.writeKafkaString("consumer")
            buffer.writeInteger(Int32(-1))  // protocols: not nullable
        }
        #expect(throws: RequestValidator.Refusal.self) { try RequestValidator.validate(Self.header(11, 1), body: join) }
        let nullGroup = Self.body { buffer in
            buffer.writeInteger(Int16(-1))  // group id: not nullable
            buffer.writeInteger(Int32(1))
            buffer.writeKafkaString("m")
        }
        #expect(throws: RequestValidator.Refusal.self) { try RequestValidator.validate(Self.header(12, 0), body: nullGroup) }
    }

    @Test("well-formed requests pass: a Metadata for all topics (v1 null), a JoinGroup, a Produce with records, flexible InitProducerId v4")
    func wellFormed() throws {
        try RequestValidator.validate(Self.header(3, 1), body: Self.body { $0.writeInteger(Int32(-1)) })
        try RequestValidator.validate(Self.header(3, 0), body: Self.body { $0.writeInteger(Int32(0)) })
        try RequestValidator.validate(Self.header(11, 5), body: Self.body { buffer in
            buffer.writeKafkaString("team-1")
            buffer.writeInteger(Int32(6000))
            buffer.writeInteger(Int32(30000))
            buffer.writeKafkaString("")
            buffer.writeInteger(Int16(-1))  // group instance id: null
            buffer.writeKafkaString("consumer")
            buffer.writeInteger(Int32(1))
            buffer.writeKafkaString("range")
            buffer.writeInteger(Int32(3))
            buffer.writeBytes([1, 2, 3])
        })
        try RequestValidator.validate(Self.header(0, 7), body: Self.body { buffer in
            buffer.writeInteger(Int16(-1))  // transactional id
            buffer.writeInteger(Int16(-1))  // acks
            buffer.writeInteger(Int32(5000))
            buffer.writeInteger(Int32(1))
            buffer.writeKafkaString("actions")
            buffer.writeInteger(Int32(1))
            buffer.writeInteger(Int32(0))
            buffer.writeInteger(Int32(61))  // a batch header at least
            buffer.writeRepeatingByte(0, count: 61)
        })
        try RequestValidator.validate(Self.header(22, 4), body: Self.body { buffer in
            buffer.writeInteger(UInt8(0))  // header tags
            buffer.writeInteger(UInt8(0))  // transactional id: null (compact)
            buffer.writeInteger(Int32(60000))
            buffer.writeInteger(Int64(-1))
            buffer.writeInteger(Int16(-1))
            buffer.writeInteger(UInt8(0))  // tags
        })
    }

    @Test("a partition named twice, more than 1,000 partitions, or more than 100 Metadata topics are refused: the cluster would copy or create each")
    func repeatedPartitions() throws {
        func fetch(_ entries: [(String, Int32)]) -> ByteBuffer {
            Self.body { buffer in
                buffer.writeInteger(Int32(-1)); buffer.writeInteger(Int32(500)); buffer.writeInteger(Int32(1))  // replica, wait, min bytes
                buffer.writeInteger(Int32(entries.count))
                for (topic, partition) in entries {
                    buffer.writeKafkaString(topic)
                    buffer.writeInteger(Int32(1))
                    buffer.writeInteger(partition)
                    buffer.writeInteger(Int64(0))
                    buffer.writeInteger(Int32.max)
                }
            }
        }
        try RequestValidator.validate(Self.header(1, 2), body: fetch([("t", 0), ("t", 1), ("u", 0)]))
        #expect(throws: RequestValidator.Refusal.self) { try RequestValidator.validate(Self.header(1, 2), body: fetch([("t", 0), ("t", 0)])) }
        #expect(throws: RequestValidator.Refusal.self) {
            try RequestValidator.validate(Self.header(1, 2), body: fetch((0..<1001).map { ("t", Int32($0)) }))
        }
        let metadata = Self.body { buffer in
            buffer.writeInteger(Int32(101))
            for index in 0..<101 { buffer.writeKafkaString("topic-\(index)") }
        }
        #expect(throws: RequestValidator.Refusal.self) { try RequestValidator.validate(Self.header(3, 1), body: metadata) }
    }

    @Test("APIs and versions the cluster does not serve are refused, as it would")
    func unsupported() {
        #expect(throws: RequestValidator.Refusal.unsupported(apiKey: 16, version: 0)) { try RequestValidator.validate(Self.header(16, 0), body: ByteBuffer()) }
        #expect(throws: RequestValidator.Refusal.unsupported(apiKey: 3, version: 9)) { try RequestValidator.validate(Self.header(3, 9), body: ByteBuffer()) }
        #expect(throws: RequestValidator.Refusal.unsupported(apiKey: -1, version: 0)) { try RequestValidator.validate(Self.header(-1, 0), body: ByteBuffer()) }
    }

    @Test("a truncated request of every served API and version is refused, never read past its end")
    func truncated() {
        for key in Int16(0)...30 {
            for version in Int16(0)...12 {
                guard let layout = RequestValidator.layout(apiKey: key, version: version), !layout.isEmpty else { continue }
                // Three bytes claiming a 9-byte string (or an int32 after an int16): no layout fits.
                let refused = (try? RequestValidator.validate(Self.header(key, version), body: Self.body { $0.writeBytes([0, 9, 0]) })) == nil
                #expect(refused, "API \(key) v\(version)")
            }
        }
    }
}
