@testable import App
import Testing

@Suite("PostMessage validation")
struct PostMessageTests {
    private func parse(_ json: String) -> Result<PostMessage, FieldError> {
        Result { () throws(FieldError) in try PostMessage.parse(Array(json.utf8)) }
    }

    @Test("a valid post parses")
    func valid() throws {
        let post = try parse(#"{"user_id":"a.b_c-d@e1","content":"héllo ✨"}"#).get()
        #expect(post == PostMessage(userID: "a.b_c-d@e1", content: "héllo ✨"))
    }

    @Test("each rule gives its code and names its field", arguments: [
        ("", "invalid_json", "JSON object"),
        ("nope", "invalid_json", "JSON object"),
        ("[]", "invalid_json", "object"),
        (#"{"user_id":"a","content":"x","key_strategy":"sometimes"}"#, "invalid_field", "key_strategy must be one of"),
        (#"{"user_id":"a","content":"x","key_strategy":1}"#, "invalid_field", "key_strategy must be one of"),
        (#"{"content":"x"}"#, "invalid_field", "user_id is required"),
        (#"{"user_id":null,"content":"x"}"#, "invalid_field", "user_id must be a string"),
        (#"{"user_id":7,"content":"x"}"#, "invalid_field", "user_id must be a string"),
        (#"{"user_id":"","content":"x"}"#, "invalid_field", "user_id must be 1 to 64"),
        (#"{"user_id":"a/b","content":"x"}"#, "invalid_field", "user_id may contain only"),
        (#"{"user_id":"a"}"#, "invalid_field", "content is required"),
        (#"{"user_id":"a","content":["x"]}"#, "invalid_field", "content must be a string"),
        (#"{"user_id":"a","content":""}"#, "invalid_field", "content must be 1 to 2000"),
    ])
    func invalid(json: String, code: String, fragment: String) {
        guard case .failure(let error) = parse(json) else {
            Issue.record("\(json) was accepted"); return
        }
        #expect(error.code == code)
        #expect(error.message.contains(fragment), "\(error.message)")
    }

    @Test("length limits count code points, not bytes and not grapheme clusters")
    func limits() {
        // "a" and 5,000 combining accents: one grapheme cluster, 5,001 code points.
        #expect((try? parse(#"{"user_id":"u","content":"a\#(String(repeating: "\u{301}", count: 5000))"}"#).get()) == nil)
        // 1,001 CR LF pairs: 1,001 grapheme clusters, 2,002 code points.
        #expect((try? parse(#"{"user_id":"u","content":"\#(String(repeating: #"\r\n"#, count: 1001))"}"#).get()) == nil)
        #expect((try? parse(#"{"user_id":"\#(String(repeating: "u", count: 64))","content":"x"}"#).get()) != nil)
        #expect((try? parse(#"{"user_id":"\#(String(repeating: "u", count: 65))","content":"x"}"#).get()) == nil)
        #expect((try? parse(#"{"user_id":"u","content":"\#(String(repeating: "é", count: 2000))"}"#).get()) != nil)
        #expect((try? parse(#"{"user_id":"u","content":"\#(String(repeating: "é", count: 2001))"}"#).get()) == nil)
    }
}

@Suite("Hand-written JSON matches the encoder's")
struct HandWrittenJSONTests {
    @Test("SendMessageResponse.json equals JSONEncoder's sorted output")
    func sendMessageResponse() throws {
        let response = SendMessageResponse(userID: "a\"b\\c", sequence: 7, partition: 3, offset: 41, timestamp: 1_795_414_433_087)
        #expect(String(decoding: response.json, as: UTF8.self) == JSONCoding.string(response))
    }
}
