import FastJSON

/// A post as stored in `user-timeline`: the record value is
/// `{"content": String, "seq": Int, "ts": Int (ms), "user_id": String}`.
public struct PostRecord: Sendable, Equatable {
    public var userID: String
    public var content: String
    /// The user's sequence number, from 1, assigned by the server.
    public var sequence: Int64
    /// Milliseconds since the epoch, when the server accepted the post.
    public var timestamp: Int64

    public init(userID: String, content: String, sequence: Int64, timestamp: Int64) {
        self.userID = userID
        self.content = content
        self.sequence = sequence
        self.timestamp = timestamp
    }

    /// Why a record value is not a post.
    public enum Malformation: String, Error, Sendable, Equatable, CaseIterable, Codable {
        case notJSON = "not_json"
        case missingField = "missing_field"
        case wrongType = "wrong_type"
        case tooLarge = "too_large"
    }

    /// Values larger than this are not posts (a post is at most ~8 KB of JSON).
    public static let maxEncodedSize = 64 * 1024

    /// The record value, JSON with sorted keys.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(content.utf8.count + userID.utf8.count + 64)
        out.append(contentsOf: #"{"content":"#.utf8)
        JSONText.appendString(content, to: &out)
        out.append(contentsOf: #","seq":"#.utf8)
        out.append(contentsOf: String(sequence).utf8)
        out.append(contentsOf: #","ts":"#.utf8)
        out.append(contentsOf: String(timestamp).utf8)
        out.append(contentsOf: #","user_id":"#.utf8)
        JSONText.appendString(userID, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Decodes a record value.
    public static func decode(_ value: [UInt8]) -> Result<PostRecord, Malformation> {
        guard value.count <= maxEncodedSize else { return .failure(.tooLarge) }
        guard let fields = FlatJSON.parseObject(value) else { return .failure(.notJSON) }
        guard let user = fields["user_id"], let content = fields["content"], let seq = fields["seq"], let ts = fields["ts"] else {
            return .failure(.missingField)
        }
        guard case .string(let userID) = user, !userID.isEmpty, case .string(let text) = content,
              case .integer(let sequence) = seq, sequence > 0, case .integer(let timestamp) = ts
        else { return .failure(.wrongType) }
        return .success(PostRecord(userID: userID, content: text, sequence: sequence, timestamp: timestamp))
    }
}
