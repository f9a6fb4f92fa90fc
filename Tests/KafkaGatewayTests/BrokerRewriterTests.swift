@testable import KafkaGateway
import NIOCore
import Testing

/// Responses written by hand in the classic encodings, as a broker writes them.
@Suite("Broker addresses rewritten to the gateway's")
struct BrokerRewriterTests {
    static let rewriter = BrokerRewriter(advertisedHost: "10.0.0.5", gatewayPorts: [40001: 9092, 40002: 9093])

    static func metadata(version: Int16, brokers: [(Int32, String, Int32)], tail: [UInt8] = [0, 0, 0, 0]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(77))  // correlation id
        if version >= 3 { buffer.writeInteger(Int32(0)) }
        buffer.writeInteger(Int32(brokers.count))
        for (node, host, port) in brokers {
            buffer.writeInteger(node)
            buffer.writeKafkaString(host)
            buffer.writeInteger(port)
            if version >= 1 { buffer.writeInteger(Int16(-1)) }  // rack: null
        }
        buffer.writeBytes(tail)  // the rest (cluster id, controller, topics) is copied as is
        return buffer
    }

    static func brokers(of response: ByteBuffer, version: Int16) -> [(Int32, String, Int32)]? {
        var input = response
        guard input.readInteger(as: Int32.self) == 77 else { return nil }
        if version >= 3 { _ = input.readInteger(as: Int32.self) }
        guard let count = input.readKafkaArrayCount(minimumElementSize: 10) else { return nil }
        var result: [(Int32, String, Int32)] = []
        for _ in 0..<count {
            guard let node = input.readInteger(as: Int32.self), let host = input.readKafkaString(), let port = input.readInteger(as: Int32.self) else { return nil }
            if version >= 1 { _ = input.readKafkaNullableString() }
            result.append((node, host, port))
        }
        return result
    }

    @Test("Metadata v0–v8: each broker's host and port become the gateway's, the rest is copied", arguments: [Int16(0), 1, 2, 3, 8])
    func metadata(version: Int16) throws {
        let tail: [UInt8] = [9, 8, 7, 6, 5]
        let original = Self.metadata(version: version, brokers: [(1, "127.0.0.1", 40001), (2, "127.0.0.1", 40002)], tail: tail)
        let rewritten = try Self.rewriter.rewrite(original, apiKey: 3, version: version)
        let brokers = try #require(Self.brokers(of: rewritten, version: version))
        #expect(brokers.map(\.0) == [1, 2])
        #expect(brokers.map(\.1) == ["10.0.0.5", "10.0.0.5"])
        #expect(brokers.map(\.2) == [9092, 9093])
        #expect(Array(rewritten.readableBytesView.suffix(tail.count)) == tail)
    }

    @Test("a broker the gateway does not front, a cut response or a flexible version is refused, never passed on")
    func refused() {
        let unknown = Self.metadata(version: 1, brokers: [(3, "127.0.0.1", 40003)])
        #expect(throws: GatewayError.self) { try Self.rewriter.rewrite(unknown, apiKey: 3, version: 1) }
        var cut = Self.metadata(version: 1, brokers: [(1, "127.0.0.1", 40001)])
        cut.moveWriterIndex(to: 12)
        #expect(throws: GatewayError.self) { try Self.rewriter.rewrite(cut, apiKey: 3, version: 1) }
        var forged = ByteBuffer()
        forged.writeInteger(Int32(77))
        forged.writeInteger(Int32.max)  // brokers: a count no response holds
        #expect(throws: GatewayError.self) { try Self.rewriter.rewrite(forged, apiKey: 3, version: 0) }
        #expect(throws: GatewayError.self) { try Self.rewriter.rewrite(Self.metadata(version: 9, brokers: []), apiKey: 3, version: 9) }
    }

    @Test("FindCoordinator v0–v2: the coordinator becomes the gateway's; an error answer is passed as it is", arguments: [Int16(0), 1, 2])
    func findCoordinator(version: Int16) throws {
        func response(error: Int16, port: Int32) -> ByteBuffer {
            var buffer = ByteBuffer()
            buffer.writeInteger(Int32(5))
            if version >= 1 { buffer.writeInteger(Int32(0)) }
            buffer.writeInteger(error)
            if version >= 1 { buffer.writeInteger(Int16(-1)) }
            buffer.writeInteger(Int32(2))
            buffer.writeKafkaString(error == 0 ? "127.0.0.1" : "")
            buffer.writeInteger(port)
            return buffer
        }
        var rewritten = try Self.rewriter.rewrite(response(error: 0, port: 40002), apiKey: 10, version: version)
        _ = rewritten.readInteger(as: Int32.self)
        if version >= 1 { _ = rewritten.readInteger(as: Int32.self) }
        #expect(rewritten.readInteger(as: Int16.self) == 0)
        if version >= 1 { _ = rewritten.readKafkaNullableString() }
        #expect(rewritten.readInteger(as: Int32.self) == 2)
        #expect(rewritten.readKafkaString() == "10.0.0.5")
        #expect(rewritten.readInteger(as: Int32.self) == 9093)
        #expect(rewritten.readableBytes == 0)
        let error = response(error: 15, port: -1)  // COORDINATOR_NOT_AVAILABLE
        #expect(try Self.rewriter.rewrite(error, apiKey: 10, version: version) == error)
    }

    @Test("ApiVersions: the APIs the gateway parses are capped at their highest parsed version")
    func apiVersions() throws {
        var response = ByteBuffer()
        response.writeInteger(Int32(1))
        response.writeInteger(Int16(0))
        let entries: [(Int16, Int16, Int16)] = [(0, 0, 7), (3, 0, 12), (10, 3, 4), (1, 0, 11)]
        response.writeInteger(Int32(entries.count))
        for (key, low, high) in entries {
            response.writeInteger(key)
            response.writeInteger(low)
            response.writeInteger(high)
        }
        response.writeInteger(Int32(0))  // throttle (v1+)
        var rewritten = try Self.rewriter.rewrite(response, apiKey: 18, version: 1)
        #expect(rewritten.readInteger(as: Int32.self) == 1)
        #expect(rewritten.readInteger(as: Int16.self) == 0)
        #expect(rewritten.readInteger(as: Int32.self) == 3)  // FindCoordinator 3–4 is flexible only: dropped
        var seen: [Int16: ClosedRange<Int16>] = [:]
        for _ in 0..<3 {
            let key = rewritten.readInteger(as: Int16.self) ?? -99
            let low = rewritten.readInteger(as: Int16.self) ?? -99
            let high = rewritten.readInteger(as: Int16.self) ?? -99
            seen[key] = low...high
        }
        #expect(seen == [0: 0...7, 3: 0...8, 1: 0...11])
        #expect(rewritten.readInteger(as: Int32.self) == 0)
    }

    @Test("ApiVersions v3: the embedded cluster's refusal is passed as it is (the client asks again with v2); an answer without error is refused")
    func apiVersionsV3() throws {
        var refusal = ByteBuffer()
        refusal.writeInteger(Int32(1))
        refusal.writeInteger(Int16(35))  // UNSUPPORTED_VERSION
        refusal.writeInteger(Int8(1))
        refusal.writeInteger(Int16(18)); refusal.writeInteger(Int16(0)); refusal.writeInteger(Int16(2))
        refusal.writeInteger(Int32(0))
        #expect(try Self.rewriter.rewrite(refusal, apiKey: 18, version: 3) == refusal)
        var accepted = ByteBuffer()
        accepted.writeInteger(Int32(1))
        accepted.writeInteger(Int16(0))
        accepted.writeInteger(Int8(1))
        #expect(throws: GatewayError.self) { try Self.rewriter.rewrite(accepted, apiKey: 18, version: 3) }
    }
}
