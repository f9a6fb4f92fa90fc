@testable import App
import FastJSON
import Foundation
import HTTPServer
import Testing
import Timeline

/// Every shape written by hand with ``JSONWriter`` must be the very text the package's
/// encoder writes for the same value, for the strings that are hardest to escape.
@Suite("JSONWriter's shapes match JSONEncoder byte for byte")
struct JSONWriterShapeTests {
    static let strings: [String] = [
        "ada",
        "say \"hi\" \\ back/slash",
        String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self),
        "é 😀 \u{7f} \u{2028} ✨",
        "",
    ]

    static func encoded(_ value: some Encodable) throws -> String {
        String(decoding: try JSONWriter.encoder.encode(value), as: UTF8.self)
    }

    /// PostRecord's fields as `Encodable` would write them.
    struct PostMirror: Encodable {
        var content: String
        var seq: Int64
        var ts: Int64
        var user_id: String  // swiftlint:disable:this identifier_name
    }

    struct ErrorMirror: Encodable {
        struct Body: Encodable { var code: String; var message: String }
        var error: Body
    }

    @Test("a post's acknowledgement", arguments: strings)
    func acknowledgement(text: String) throws {
        let response = SendMessageResponse(userID: text, sequence: 9_007_199_254_740_991, partition: 5, offset: -1, timestamp: 1_700_000_000_123)
        #expect(String(decoding: response.json, as: UTF8.self) == (try Self.encoded(response)))
    }

    @Test("a post record's value", arguments: strings)
    func postRecord(text: String) throws {
        let record = PostRecord(userID: text, content: text + "!", sequence: 42, timestamp: 0)
        let mirror = PostMirror(content: text + "!", seq: 42, ts: 0, user_id: text)
        #expect(String(decoding: record.encoded(), as: UTF8.self) == (try Self.encoded(mirror)))
    }

    @Test("an error body", arguments: strings)
    func errorBody(text: String) throws {
        let error = HTTPError(status: 400, code: "invalid_field", message: text)
        #expect(String(decoding: error.response.body, as: UTF8.self) == (try Self.encoded(ErrorMirror(error: .init(code: "invalid_field", message: text)))))
    }

    @Test("a live messages frame: none, one and several posts")
    func messagesFrame() throws {
        let posts = Self.strings.enumerated().map { index, text in
            RecentPosts.Message(userID: text, content: text, sequence: Int64(index + 1), timestamp: Int64.max, partition: Int32(index), offset: Int64(index) * 1000)
        }
        for batch in [[], Array(posts.prefix(1)), posts] {
            let message = WebSocketMessage(type: "messages", channel: "messages", data: batch)
            #expect(WebSocketMessage.messagesFrame(batch) == (try Self.encoded(message)))
        }
    }

    @Test("the messages channel's snapshot: no post, one and several")
    func messagesSnapshot() throws {
        let posts = Self.strings.enumerated().map { index, text in
            RecentPosts.Message(userID: text, content: text, sequence: Int64(index + 1), timestamp: Int64.min, partition: Int32(index), offset: Int64(index) * 1000)
        }
        for batch in [[], Array(posts.prefix(1)), posts] {
            let snapshot = MessagesSnapshot(messages: batch, consumed: batch.count * 7, malformed: Int.max)
            let message = WebSocketMessage(type: "snapshot", channel: "messages", data: snapshot)
            #expect(WebSocketMessage.messagesSnapshot(snapshot) == (try Self.encoded(message)))
        }
    }

    @Test("a page of /api/users: no user, one and several", arguments: strings)
    func usersPage(text: String) throws {
        let rows = [
            UsersResponse.Row(userID: text, postCount: 0, partitions: [], lastSequence: -1, violations: 0),
            UsersResponse.Row(userID: text + "2", postCount: Int.max, partitions: [0, 5, Int32.max], lastSequence: Int64.max, violations: 3),
        ]
        for users in [[], Array(rows.prefix(1)), rows] {
            let page = UsersResponse(total: 100_000, offset: 7, users: users)
            #expect(String(decoding: page.json, as: UTF8.self) == (try Self.encoded(page)))
        }
    }

    @Test("a flat object, keys given sorted")
    func flatObject() throws {
        for text in Self.strings {
            let bytes = JSONWriter.object([("a", .integer(Int64.min)), ("b", .bool(false)), ("c", .string(text))])
            struct Mirror: Encodable { var a: Int64; var b: Bool; var c: String }
            #expect(String(decoding: bytes, as: UTF8.self) == (try Self.encoded(Mirror(a: Int64.min, b: false, c: text))))
        }
    }

    @Test("integers: every digit count, both signs, the ends of Int64 and past them")
    func integers() throws {
        var values: [Int64] = [0, Int64.max, Int64.min, Int64.min + 1]
        var power: Int64 = 1
        for _ in 0..<18 {
            values += [power, power - 1, -power, -(power - 1), power + 7]
            power *= 10
        }
        for value in values {
            var writer = JSONWriter()
            writer.integer(value)
            #expect(String(decoding: writer.bytes, as: UTF8.self) == (try Self.encoded(value)), "\(value)")
        }
        var wide = JSONWriter()
        wide.beginArray()
        wide.integer(UInt64.max)
        wide.integer(Int32.min)
        wide.endArray()
        #expect(String(decoding: wide.bytes, as: UTF8.self) == (try Self.encoded([String(UInt64.max), String(Int32.min)])).replacingOccurrences(of: "\"", with: ""))
    }
}
