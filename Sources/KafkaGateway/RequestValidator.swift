public import NIOCore

/// Checks every request against the layout its API and version define before the
/// embedded cluster sees it.
///
/// The embedded cluster is librdkafka's test broker, inside this process: it trusts
/// counts it reads (a Metadata request claiming 2³¹−1 topics, or a JoinGroup claiming −1
/// protocols, makes it allocate that much and abort, taking the whole server down). The
/// gateway is the only way in for a class, so here every string, byte run and array must
/// fit in the frame, arrays may not be negative unless the field is nullable, and only
/// the APIs and versions the cluster serves are let through: anything else closes that
/// connection, as the cluster itself would.
///
/// Beyond the layout, requests that name topic-partitions may name each at most once and
/// at most ``maxPartitionsPerRequest`` in all, and a Metadata request at most
/// ``maxTopicsPerMetadata`` topics: the cluster copies a partition's stored batch for every
/// entry of a Fetch (a Fetch v0–v2 has no overall byte limit there), so one request naming
/// a partition a million times would make it build a response of a terabyte; and it
/// creates every topic a Metadata request names.
public enum RequestValidator {
    /// More than any client sends: librdkafka fetches each partition it is assigned once.
    public static let maxPartitionsPerRequest = 1000
    public static let maxTopicsPerMetadata = 100
    /// The size of a record batch's header (magic 2), the smallest records a Produce can carry.
    public static let minimumRecordsBytes = 61

    /// One field of a request.
    indirect enum Field {
        case int8, int16, int32, int64
        case string, nullableString
        case bytes, nullableBytes
        /// A Produce partition's records: at least one record batch header (61 bytes).
        /// The embedded cluster aborts the whole process on null or empty records
        /// (librdkafka 2.0.2's mock asserts in `rd_slice_init_full`), and nothing shorter
        /// is a batch it could store.
        case records
        /// An array of elements made of these fields; `nullable`: −1 allowed.
        case array([Field], nullable: Bool = false)
        /// `[topic string, [partition int32, then these fields]]`: each (topic, partition)
        /// at most once per request, and a bounded number of them.
        case topicPartitions([Field], nullable: Bool = false)
        /// Metadata's topic names: a bounded number.
        case metadataTopics(nullable: Bool)
        /// Flexible versions: compact strings, compact arrays and tagged fields.
        case compactNullableString
        case compactString
        case taggedFields

        /// The fewest bytes one such field takes: a bound for claimed array counts.
        var minimumSize: Int {
            switch self {
            case .int8: 1
            case .int16, .string, .nullableString: 2
            case .int32, .bytes, .nullableBytes, .array, .topicPartitions, .metadataTopics: 4
            case .records: 4 + minimumRecordsBytes
            case .int64: 8
            case .compactNullableString, .compactString, .taggedFields: 1
            }
        }
    }

    /// Why a request was refused.
    public enum Refusal: Error, Equatable, Sendable {
        case unsupported(apiKey: Int16, version: Int16)
        case malformed(apiKey: Int16, version: Int16)
    }

    /// Checks the body of a request (the bytes after its header) with `header`'s API and
    /// version. For flexible versions, `body` starts at the header's tagged fields.
    public static func validate(_ header: KafkaRequestHeader, body: ByteBuffer) throws(Refusal) {
        guard let fields = layout(apiKey: header.apiKey, version: header.apiVersion) else {
            throw .unsupported(apiKey: header.apiKey, version: header.apiVersion)
        }
        var reader = body
        var named = Set<TopicPartition>()
        for field in fields {
            guard read(field, from: &reader, named: &named) else { throw .malformed(apiKey: header.apiKey, version: header.apiVersion) }
        }
    }

    struct TopicPartition: Hashable {
        var topic: String
        var partition: Int32
    }

    private static func read(_ field: Field, from buffer: inout ByteBuffer, named: inout Set<TopicPartition>) -> Bool {
        switch field {
        case .int8: return buffer.skipKafka(1)
        case .int16: return buffer.skipKafka(2)
        case .int32: return buffer.skipKafka(4)
        case .int64: return buffer.skipKafka(8)
        case .string: return buffer.readKafkaString() != nil
        case .nullableString: return buffer.readKafkaNullableString() != nil
        case .bytes:
            guard let bytes = buffer.readKafkaBytes(), bytes != nil else { return false }
            return true
        case .nullableBytes: return buffer.readKafkaBytes() != nil
        case .records:
            guard case .some(.some(let records)) = buffer.readKafkaBytes() else { return false }
            return records.readableBytes >= minimumRecordsBytes
        case .array(let element, let nullable):
            guard let raw = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return false }
            if raw == -1 {
                buffer.moveReaderIndex(forwardBy: 4)
                return nullable
            }
            let size = element.reduce(0) { $0 + $1.minimumSize }
            guard let count = buffer.readKafkaArrayCount(minimumElementSize: size) else { return false }
            for _ in 0..<count {
                for part in element where !read(part, from: &buffer, named: &named) { return false }
            }
            return true
        case .topicPartitions(let rest, let nullable):
            guard let raw = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return false }
            if raw == -1 {
                buffer.moveReaderIndex(forwardBy: 4)
                return nullable
            }
            guard let topics = buffer.readKafkaArrayCount(minimumElementSize: 6) else { return false }
            let size = 4 + rest.reduce(0) { $0 + $1.minimumSize }
            for _ in 0..<topics {
                guard let topic = buffer.readKafkaString(), let partitions = buffer.readKafkaArrayCount(minimumElementSize: size) else { return false }
                for _ in 0..<partitions {
                    guard let partition = buffer.readInteger(as: Int32.self),
                          named.insert(TopicPartition(topic: topic, partition: partition)).inserted,
                          named.count <= maxPartitionsPerRequest
                    else { return false }
                    for part in rest where !read(part, from: &buffer, named: &named) { return false }
                }
            }
            return true
        case .metadataTopics(let nullable):
            guard let raw = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return false }
            if raw == -1 {
                buffer.moveReaderIndex(forwardBy: 4)
                return nullable
            }
            guard let count = buffer.readKafkaArrayCount(minimumElementSize: 2), count <= maxTopicsPerMetadata else { return false }
            for _ in 0..<count where buffer.readKafkaString() == nil { return false }
            return true
        case .compactString, .compactNullableString:
            guard let length = buffer.readUnsignedVarint(), length <= UInt64(Int32.max) else { return false }
            if length == 0 { return field == .compactNullableString }
            return buffer.skipKafka(Int(length) - 1)
        case .taggedFields:
            guard let count = buffer.readUnsignedVarint(), count <= UInt64(buffer.readableBytes) else { return false }
            for _ in 0..<count {
                guard buffer.readUnsignedVarint() != nil, let size = buffer.readUnsignedVarint(), size <= UInt64(Int32.max),
                      buffer.skipKafka(Int(size))
                else { return false }
            }
            return true
        }
    }

    /// The request layout of each API and version the embedded cluster serves
    /// (librdkafka 2.0.2's mock: its handler table), or nil for what it does not.
    static func layout(apiKey: Int16, version v: Int16) -> [Field]? {
        let topicPartitions: Field = .topicPartitions([])
        switch (apiKey, v) {
        case (0, 0...7):  // Produce
            return (v >= 3 ? [.nullableString] : []) + [.int16, .int32, .topicPartitions([.records])]
        case (1, 0...11):  // Fetch
            var fields: [Field] = [.int32, .int32, .int32]
            if v >= 3 { fields.append(.int32) }
            if v >= 4 { fields.append(.int8) }
            if v >= 7 { fields += [.int32, .int32] }
            let partition: [Field] = (v >= 9 ? [.int32] : []) + [.int64] + (v >= 5 ? [.int64] : []) + [.int32]
            fields.append(.topicPartitions(partition))
            if v >= 7 { fields.append(.array([.string, .array([.int32])])) }  // forgotten topics
            if v >= 11 { fields.append(.string) }
            return fields
        case (2, 0...5):  // ListOffsets
            let partition: [Field] = (v >= 4 ? [.int32] : []) + [.int64] + (v == 0 ? [.int32] : [])
            return [.int32] + (v >= 2 ? [.int8] : []) + [.topicPartitions(partition)]
        case (3, 0...2):  // Metadata
            return [.metadataTopics(nullable: v >= 1)]
        case (8, 0...7):  // OffsetCommit
            var fields: [Field] = [.string]
            if v >= 1 { fields += [.int32, .string] }
            if v >= 7 { fields.append(.nullableString) }
            if (2...4).contains(v) { fields.append(.int64) }
            let partition: [Field] = [.int64] + (v >= 6 ? [.int32] : []) + (v == 1 ? [.int64] : []) + [.nullableString]
            fields.append(.topicPartitions(partition))
            return fields
        case (9, 0...5):  // OffsetFetch
            return [.string, .topicPartitions([], nullable: v >= 2)]
        case (10, 0...2):  // FindCoordinator
            return [.string] + (v >= 1 ? [.int8] : [])
        case (11, 0...5):  // JoinGroup
            return [.string, .int32] + (v >= 1 ? [.int32] : []) + [.string] + (v >= 5 ? [.nullableString] : [])
                + [.string, .array([.string, .bytes])]
        case (12, 0...3):  // Heartbeat
            return [.string, .int32, .string] + (v >= 3 ? [.nullableString] : [])
        case (13, 0...1):  // LeaveGroup
            return [.string, .string]
        case (14, 0...3):  // SyncGroup
            return [.string, .int32, .string] + (v >= 3 ? [.nullableString] : []) + [.array([.string, .bytes])]
        case (18, 0...2):  // ApiVersions
            return []
        case (18, 3):  // the flexible v3 every client tries first (refused by the cluster)
            return [.taggedFields, .compactString, .compactString, .taggedFields]
        case (22, 0...1):  // InitProducerId
            return [.nullableString, .int32]
        case (22, 2...4):  // flexible
            return [.taggedFields, .compactNullableString, .int32] + (v >= 3 ? [.int64, .int16] : []) + [.taggedFields]
        case (24, 0...1):  // AddPartitionsToTxn
            return [.string, .int64, .int16, topicPartitions]
        case (25, 0...1):  // AddOffsetsToTxn
            return [.string, .int64, .int16, .string]
        case (26, 0...2):  // TxnOffsetCommit
            let partition: [Field] = [.int64] + (v >= 2 ? [.int32] : []) + [.nullableString]
            return [.string, .string, .int64, .int16, .topicPartitions(partition)]
        case (26, 3):
            return nil  // flexible from v3: the cluster serves 0–2
        case (28, 0...1):  // EndTxn
            return [.string, .int64, .int16, .int8]
        default:
            return nil
        }
    }
}

extension RequestValidator.Field: Equatable {}

extension ByteBuffer {
    /// An unsigned LEB128 varint of at most 5 bytes (what Kafka's lengths use).
    mutating func readUnsignedVarint() -> UInt64? {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 35, by: 7) {
            guard let byte = readInteger(as: UInt8.self) else { return nil }
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        return nil
    }
}
