import Foundation

/// A post as stored in `user-timeline`: the record value, JSON with sorted keys.
struct TimelineRecord: Codable, Sendable, Equatable {
    var userID: String
    var content: String
    /// Milliseconds since the epoch, when the server accepted the post.
    var timestamp: Int64

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case content
        case timestamp = "ts"
    }

    func encoded() -> [UInt8] {
        (try? Array(JSONCoding.encoder.encode(self))) ?? []
    }

    /// Decodes a record value; nil for anything malformed.
    static func decode(_ value: [UInt8]) -> TimelineRecord? {
        guard let record = try? JSONCoding.decoder.decode(TimelineRecord.self, from: Data(value)),
              !record.userID.isEmpty
        else { return nil }
        return record
    }
}

enum JSONCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder = JSONDecoder()

    static func string(_ value: some Encodable) -> String {
        (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
