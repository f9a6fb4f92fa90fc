public import NIOCore

/// The API keys the gateway reads or rewrites (Kafka protocol guide numbering).
enum APIKey {
    static let produce: Int16 = 0
    static let metadata: Int16 = 3
    static let offsetCommit: Int16 = 8
    static let offsetFetch: Int16 = 9
    static let findCoordinator: Int16 = 10
    static let joinGroup: Int16 = 11
    static let heartbeat: Int16 = 12
    static let leaveGroup: Int16 = 13
    static let syncGroup: Int16 = 14
    static let apiVersions: Int16 = 18
}

/// What every request starts with: `api_key`, `api_version`, `correlation_id`,
/// `client_id` (request header v1; v2 adds tagged fields after it, which only flexible
/// versions use).
public struct KafkaRequestHeader: Sendable, Equatable {
    public var apiKey: Int16
    public var apiVersion: Int16
    public var correlationID: Int32
    public var clientID: String?

    /// Reads the header at the front of `frame` (the bytes after the size), leaving the
    /// reader index at the body. Nil when the bytes are not a header.
    public static func read(from frame: inout ByteBuffer) -> KafkaRequestHeader? {
        guard let apiKey = frame.readInteger(as: Int16.self),
              let apiVersion = frame.readInteger(as: Int16.self),
              let correlationID = frame.readInteger(as: Int32.self),
              let clientID = frame.readKafkaNullableString()
        else { return nil }
        return KafkaRequestHeader(apiKey: apiKey, apiVersion: apiVersion, correlationID: correlationID, clientID: clientID)
    }
}

extension ByteBuffer {
    /// A classic `string` (int16 length, then UTF-8). Nil when the bytes are not one.
    mutating func readKafkaString() -> String? {
        guard let length = readInteger(as: Int16.self), length >= 0 else { return nil }
        return readString(length: Int(length))
    }

    /// A classic `nullable string`: `.some(nil)` for length −1; nil when malformed.
    mutating func readKafkaNullableString() -> String?? {
        guard let length = readInteger(as: Int16.self) else { return nil }
        if length == -1 { return .some(nil) }
        guard length >= 0, let text = readString(length: Int(length)) else { return nil }
        return .some(text)
    }

    /// Classic `bytes` (int32 length); `.some(nil)` for −1 (nullable bytes).
    mutating func readKafkaBytes() -> ByteBuffer?? {
        guard let length = readInteger(as: Int32.self) else { return nil }
        if length == -1 { return .some(nil) }
        guard length >= 0, let bytes = readSlice(length: Int(length)) else { return nil }
        return .some(bytes)
    }

    /// An array's element count, refused unless that many elements of at least
    /// `minimumElementSize` bytes could follow: a forged count never makes a reader loop
    /// or allocate for elements that are not there.
    mutating func readKafkaArrayCount(minimumElementSize: Int) -> Int? {
        guard let count = readInteger(as: Int32.self) else { return nil }
        if count == -1 { return 0 }  // a null array
        guard count >= 0, Int(count).multipliedReportingOverflow(by: max(1, minimumElementSize)).partialValue <= readableBytes else { return nil }
        return Int(count)
    }

    /// Skips `count` bytes; false when fewer are left.
    mutating func skipKafka(_ count: Int) -> Bool {
        guard count >= 0, readableBytes >= count else { return false }
        moveReaderIndex(forwardBy: count)
        return true
    }

    /// Writes a classic `nullable string`: length −1 for nil.
    mutating func writeKafkaNullableString(_ text: String?) {
        guard let text else {
            writeInteger(Int16(-1))
            return
        }
        writeKafkaString(text)
    }

    /// Writes a classic `string` (of at most 32,767 bytes: a longer one is cut).
    mutating func writeKafkaString(_ text: String) {
        let bytes = text.utf8.prefix(Int(Int16.max))
        writeInteger(Int16(bytes.count))
        writeBytes(bytes)
    }
}

/// Kafka's names of the APIs, for people.
public enum KafkaAPINames {
    public static func name(of key: Int16) -> String {
        names[key] ?? "API \(key)"
    }

    static let names: [Int16: String] = [
        0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
        10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
        15: "DescribeGroups", 16: "ListGroups", 18: "ApiVersions", 19: "CreateTopics", 22: "InitProducerId",
        24: "AddPartitionsToTxn", 25: "AddOffsetsToTxn", 26: "TxnOffsetCommit", 28: "EndTxn",
    ]
}
