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
        /// `user_id` breaks the POST rules (1–64 of `A–Z a–z 0–9 _ . @ -`).
        case invalidUserID = "invalid_user_id"
        /// `content` breaks the POST rules (1–2,000 code points).
        case invalidContent = "invalid_content"
        /// `seq` above ``PostRecord/maxSequence``, or `ts` outside 0…``PostRecord/maxTimestamp``.
        case outOfRange = "out_of_range"
    }

    // The rules a post is held to, whether it came through the API or was produced to
    // the topic by anyone with a Kafka client.

    /// Longest `user_id`, in characters.
    public static let maxUserIDLength = 64
    /// Longest `content`, in Unicode code points.
    public static let maxContentLength = 2000
    /// Highest sequence number: the largest integer a browser's JSON reads exactly
    /// (2^53 − 1), far below where `+ 1` could overflow.
    public static let maxSequence: Int64 = (1 << 53) - 1
    /// Latest timestamp, in ms since the epoch: the year 9999.
    public static let maxTimestamp: Int64 = 253_402_300_799_999

    /// Whether `userID` may name a timeline: 1–64 letters, digits and `_ . @ -`, so it is
    /// safe in a URL path and in a log line.
    public static func isValidUserID(_ userID: String) -> Bool {
        guard !userID.isEmpty, fits(userID, maxLength: maxUserIDLength) else { return false }
        return userID.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "@", "-": true
            default: false
            }
        }
    }

    /// Whether `content` may be posted: 1–2,000 Unicode code points. Code points, not
    /// grapheme clusters: "a" and 30,000 combining accents are one character to Swift's
    /// `count` but 60 KB on the wire.
    public static func isValidContent(_ content: String) -> Bool {
        !content.isEmpty && fits(content, maxLength: maxContentLength)
    }

    /// Whether `text` has at most `maxLength` Unicode code points. Its UTF-8 length
    /// answers for most texts without a walk: a code point takes one byte or more.
    public static func fits(_ text: String, maxLength: Int) -> Bool {
        text.utf8.count <= maxLength || text.unicodeScalars.count <= maxLength
    }

    /// Values larger than this are not posts (a post is at most ~8 KB of JSON).
    public static let maxEncodedSize = 64 * 1024

    /// The record value, JSON with sorted keys.
    public func encoded() -> [UInt8] {
        var json = JSONWriter(capacity: content.utf8.count + userID.utf8.count + 64)
        json.beginObject()
        json.field("content", content)
        json.field("seq", sequence)
        json.field("ts", timestamp)
        json.field("user_id", userID)
        json.endObject()
        return json.bytes
    }

    /// Decodes a record value.
    public static func decode(_ value: [UInt8]) -> Result<PostRecord, Malformation> {
        guard value.count <= maxEncodedSize else { return .failure(.tooLarge) }
        guard let fields = FlatJSON.parseObject(value, fields: ["user_id", "content", "seq", "ts"]) else { return .failure(.notJSON) }
        guard let user = fields[0], let content = fields[1], let seq = fields[2], let ts = fields[3] else {
            return .failure(.missingField)
        }
        guard case .string(let userID) = user, !userID.isEmpty, case .string(let text) = content,
              case .integer(let sequence) = seq, sequence > 0, case .integer(let timestamp) = ts
        else { return .failure(.wrongType) }
        guard isValidUserID(userID) else { return .failure(.invalidUserID) }
        guard isValidContent(text) else { return .failure(.invalidContent) }
        guard sequence <= maxSequence, (0...maxTimestamp).contains(timestamp) else { return .failure(.outOfRange) }
        return .success(PostRecord(userID: userID, content: text, sequence: sequence, timestamp: timestamp))
    }
}
