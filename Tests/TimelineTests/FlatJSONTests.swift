import FastJSON
import Testing
import Timeline

@Suite("FlatJSON reads flat objects and refuses anything invalid")
struct FlatJSONTests {
    private func parse(_ text: String) -> [String: FlatJSON.Value]? {
        FlatJSON.parseObject(Array(text.utf8))
    }

    @Test("scalars, escapes, surrogate pairs and nested values")
    func values() throws {
        let fields = try #require(parse(#" {"s":"a\"b\\c\/d\n\u00e9\ud83d\ude00","i":-42,"d":1.5e3,"t":true,"f":false,"n":null,"o":{"x":[1,{"y":"z"}]},"a":[]} "#))
        #expect(fields["s"] == .string("a\"b\\c/d\né😀"))
        #expect(fields["i"] == .integer(-42))
        #expect(fields["d"] == .number(1500))
        #expect(fields["t"] == .bool(true))
        #expect(fields["f"] == .bool(false))
        #expect(fields["n"] == .null)
        #expect(fields["o"] == .nested)
        #expect(fields["a"] == .nested)
        #expect(parse("{}") == [:])
        #expect(parse(#"{"k":"plain ünïcode ✨"}"#)?["k"] == .string("plain ünïcode ✨"))
    }

    @Test("JSONWriter.object writes fields in order, escaped, and reads back the same")
    func writeObject() {
        let fields: [(String, FlatJSON.Value)] = [("z", .string("say \"hi\"\n")), ("a", .integer(-7)), ("b", .bool(true)), ("n", .null)]
        let bytes = JSONWriter.object(fields)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"z":"say \"hi\"\n","a":-7,"b":true,"n":null}"#)
        #expect(FlatJSON.parseObject(bytes) == ["z": .string("say \"hi\"\n"), "a": .integer(-7), "b": .bool(true), "n": .null])
        #expect(JSONWriter.object([]) == Array("{}".utf8))
    }

    @Test("invalid JSON is nil", arguments: [
        "", "   ", "[]", "\"s\"", "{", "}", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, #"{"a":1"#, #"{"a":1}x"#,
        #"{a:1}"#, #"{"a":01}"#, #"{"a":1.}"#, #"{"a":tru}"#, #"{"a":"\x"}"#, #"{"a":"\u12"}"#,
        #"{"a":"\ud83d"}"#, "{\"a\":\"line\nbreak\"}", #"{"a":[1,]}"#, #"{"a":{"b"}}"#, #"{"a":-}"#,
    ])
    func invalid(text: String) {
        #expect(parse(text) == nil, "\(text)")
    }

    @Test("invalid UTF-8 in a string is refused")
    func invalidUTF8() {
        #expect(FlatJSON.parseObject(Array(#"{"a":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)) == nil)
    }

    /// What reading only some fields must give: the whole object's dictionary, looked up.
    private func lookedUp(_ bytes: [UInt8], _ names: [StaticString]) -> [FlatJSON.Value?]? {
        FlatJSON.parseObject(bytes).map { fields in names.map { name in fields[name.description] } }
    }

    @Test("reading named fields gives what the whole object's dictionary gives", arguments: [
        #"{"user_id":"ann","content":"hi"}"#, #" { "content" : "x" , "user_id" : "b" } "#, "{}",
        #"{"user_id":"first","user_id":"last"}"#, #"{"user\u005fid":"escaped key","content":1}"#,
        #"{"user":"prefix","user_idx":"longer","content":null}"#, #"{"other":{"user_id":"nested"},"content":[1,2]}"#,
        #"{"é":"non-ASCII key","content":"ünï"}"#, #"{"user_id":"a","content":"b","key_strategy":"none","x":1.5}"#,
        #"{"user_id":"a",}"#, #"{"user_id" "a"}"#, #"{"user_id":"a"} x"#, #"{"user_id":"a\q"}"#, "[]", "",
        "{\"user_id\":\"tab\tinside\"}", #"{"content":"\ud83d"}"#,
    ])
    func namedFields(text: String) {
        let names: [StaticString] = ["user_id", "content", "key_strategy"]
        let bytes = Array(text.utf8)
        #expect(FlatJSON.parseObject(bytes, fields: names) == lookedUp(bytes, names), "\(text)")
    }

    @Test("invalid UTF-8 in a field that is not read still makes the object invalid")
    func invalidUTF8InSkippedField() {
        let badKey = Array(#"{""#.utf8) + [0xC3, 0x28] + Array(#"":1,"content":"x"}"#.utf8)
        let badValue = Array(#"{"other":""#.utf8) + [0xFF] + Array(#"","content":"x"}"#.utf8)
        for bytes in [badKey, badValue] {
            #expect(FlatJSON.parseObject(bytes) == nil)
            #expect(FlatJSON.parseObject(bytes, fields: ["content"]) == nil)
        }
        let good = Array(#"{"other":"ok","content":"x"}"#.utf8)
        #expect(FlatJSON.parseObject(good, fields: ["content", "absent"]) == [.string("x"), nil])
    }

    @Test("deep nesting is refused, not a stack overflow")
    func deepNesting() {
        let deep = #"{"a":"# + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        #expect(parse(deep) == nil)
    }
}

@Suite("PostRecord: the user-timeline record value")
struct PostRecordTests {
    @Test("encode then decode gives the post back, including awkward text")
    func roundTrip() throws {
        let post = PostRecord(userID: "a.b@c", content: "quote \" backslash \\ newline \n tab \t ctrl \u{01} emoji 😀", sequence: 7, timestamp: 1_795_414_433_087)
        let encoded = post.encoded()
        #expect(try PostRecord.decode(encoded).get() == post)
        #expect(String(decoding: encoded, as: UTF8.self).hasPrefix(#"{"content":"quote \" backslash \\ newline \n"#))
    }

    @Test("malformed values say why", arguments: [
        ("not json", PostRecord.Malformation.notJSON),
        (#"{"user_id":"a","content":"x","seq":1}"#, .missingField),
        (#"{"user_id":5,"content":"x","seq":1,"ts":1}"#, .wrongType),
        (#"{"user_id":"a","content":"x","seq":"1","ts":1}"#, .wrongType),
        (#"{"user_id":"a","content":"x","seq":0,"ts":1}"#, .wrongType),
        (#"{"user_id":"","content":"x","seq":1,"ts":1}"#, .wrongType),
        (#"{"user_id":"a","content":"x","seq":1.5,"ts":1}"#, .wrongType),
    ])
    func malformed(text: String, reason: PostRecord.Malformation) {
        #expect(PostRecord.decode(Array(text.utf8)) == .failure(reason))
    }

    /// Records anyone can produce to user-timeline are held to the rules a POST is held
    /// to before they reach a timeline (a forged seq of Int64.max crashed the server on
    /// the next record for that user; a NUL in user_id made the timeline unreachable).
    @Test("records that break the POST rules are malformed, with the rule they break", arguments: [
        (#"{"user_id":"v","content":"a","seq":9223372036854775807,"ts":1}"#, PostRecord.Malformation.outOfRange),
        (#"{"user_id":"v","content":"a","seq":9007199254740992,"ts":1}"#, .outOfRange),
        (#"{"user_id":"v","content":"a","seq":1,"ts":-1}"#, .outOfRange),
        (#"{"user_id":"v","content":"a","seq":1,"ts":9223372036854775807}"#, .outOfRange),
        (#"{"user_id":"v\u0000w","content":"a","seq":1,"ts":1}"#, .invalidUserID),
        (#"{"user_id":"v/../w","content":"a","seq":1,"ts":1}"#, .invalidUserID),
        (#"{"user_id":"\#(String(repeating: "u", count: 10_000))","content":"a","seq":1,"ts":1}"#, .invalidUserID),
        (#"{"user_id":"v","content":"","seq":1,"ts":1}"#, .invalidContent),
        (#"{"user_id":"v","content":"\#(String(repeating: "c", count: 2001))","seq":1,"ts":1}"#, .invalidContent),
    ])
    func brokenRules(text: String, reason: PostRecord.Malformation) {
        #expect(PostRecord.decode(Array(text.utf8)) == .failure(reason))
    }

    @Test("the largest values the rules allow decode")
    func limits() throws {
        let text = #"{"user_id":"\#(String(repeating: "u", count: 64))","content":"\#(String(repeating: "c", count: 2000))","seq":9007199254740991,"ts":1}"#
        let post = try PostRecord.decode(Array(text.utf8)).get()
        #expect(post.sequence == PostRecord.maxSequence)
    }

    @Test("values over 64 KiB are too large without being parsed")
    func tooLarge() {
        #expect(PostRecord.decode([UInt8](repeating: 0x20, count: 1_000_000)) == .failure(.tooLarge))
    }
}
