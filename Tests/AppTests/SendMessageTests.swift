import App
import Foundation
import HTTPTestSupport
import Kafka
import Testing

@Suite("POST /api/send-message through the embedded Kafka, end to end", .serialized)
struct SendMessageTests {
    @Test("201 with partition and offset after the broker's ack; the same user always lands in one partition")
    func acknowledged() throws {
        let running = try RunningApp()
        let client = try running.client()
        var partitions: [String: Set<Int>] = [:]
        var offsets: [Int: [Int]] = [:]
        for round in 0..<3 {
            for user in ["alice", "bob", "carol"] {
                let response = try client.postJSON("/api/send-message", #"{"user_id":"\#(user)","content":"post \#(round)"}"#)
                #expect(response.status == 201)
                let partition = try #require(response.json?["partition"] as? Int)
                let offset = try #require(response.json?["offset"] as? Int)
                #expect(response.json?["user_id"] as? String == user)
                partitions[user, default: []].insert(partition)
                offsets[partition, default: []].append(offset)
            }
        }
        // murmur2 placement, as kafka-python 2.0.2 and the Java client compute it.
        #expect(partitions == ["alice": [3], "bob": [0], "carol": [2]])
        // Offsets in each partition count up from 0 without gaps.
        for (_, list) in offsets { #expect(list == Array(0..<list.count)) }
    }

    @Test("a WebSocket client on /ws receives a posted message within 1 s")
    func liveOverWebSocket() throws {
        let running = try RunningApp()
        let socket = try TestWebSocket(port: running.port)
        #expect(socket.handshakeStatus == 101)
        // On connect: a snapshot of every channel.
        var snapshots: Set<String> = []
        let channels: Set<String> = ["messages", "partitions", "ordering", "throughput", "lag", "leaderboard", "achievements", "clients"]
        while snapshots.count < channels.count {
            let frame = try #require(try JSONSerialization.jsonObject(with: Data(try socket.receive().utf8)) as? [String: Any])
            #expect(frame["type"] as? String == "snapshot")
            snapshots.insert(frame["channel"] as? String ?? "")
        }
        #expect(snapshots == channels)
        try socket.send(#"{"subscribe":["messages"]}"#)
        while try !socket.receive().contains(#""type":"snapshot""#) {}  // the subscription's snapshot

        let start = ContinuousClock.now
        let response = try running.client().postJSON("/api/send-message", #"{"user_id":"dora","content":"live!"}"#)
        #expect(response.status == 201)
        let pushed = try socket.receive()
        let elapsed = ContinuousClock.now - start
        let object = try #require(try JSONSerialization.jsonObject(with: Data(pushed.utf8)) as? [String: Any])
        #expect(object["type"] as? String == "messages")
        #expect(object["channel"] as? String == "messages")
        let batch = try #require(object["data"] as? [[String: Any]])
        #expect(batch.count == 1)
        let data = try #require(batch.first)
        #expect(data["user_id"] as? String == "dora")
        #expect(data["content"] as? String == "live!")
        #expect(data["offset"] as? Int == response.json?["offset"] as? Int)
        #expect(data["seq"] as? Int == 1)
        #expect(elapsed < .seconds(1), "took \(elapsed)")
    }

    /// (method, path, content type, body, status, error code). One app serves every case.
    static let badInputs: [(String, String, String, String, Int, String)] = [
        ("POST", "/api/send-message", "application/json", "{not json", 400, "invalid_json"),
        ("POST", "/api/send-message", "application/json", "[1,2]", 400, "invalid_json"),
        ("POST", "/api/send-message", "application/json", #"{"content":"hi"}"#, 400, "invalid_field"),
        ("POST", "/api/send-message", "application/json", #"{"user_id":"","content":"hi"}"#, 400, "invalid_field"),
        ("POST", "/api/send-message", "application/json", #"{"user_id":42,"content":"hi"}"#, 400, "invalid_field"),
        ("POST", "/api/send-message", "application/json", #"{"user_id":"a b","content":"hi"}"#, 400, "invalid_field"),
        ("POST", "/api/send-message", "application/json", #"{"user_id":"alice"}"#, 400, "invalid_field"),
        ("POST", "/api/send-message", "application/json", #"{"user_id":"alice","content":""}"#, 400, "invalid_field"),
        ("POST", "/api/send-message", "text/plain", #"{"user_id":"alice","content":"hi"}"#, 415, "unsupported_media_type"),
        ("POST", "/api/send-message", "", #"{"user_id":"alice","content":"hi"}"#, 415, "unsupported_media_type"),
        ("GET", "/api/send-message", "", "", 405, "method_not_allowed"),
        ("PUT", "/api/send-message", "application/json", "{}", 405, "method_not_allowed"),
        ("GET", "/api/nope", "", "", 404, "not_found"),
        ("POST", "/api/nope", "application/json", "{}", 404, "not_found"),
    ]

    @Test("bad input gets a JSON error with the right status, and nothing reaches Kafka")
    func badInput() throws {
        let running = try RunningApp()
        let client = try running.client()
        for (method, path, contentType, body, status, code) in Self.badInputs {
            let headers = contentType.isEmpty ? [:] : ["Content-Type": contentType]
            let response = try client.request(method, path, headers: headers, body: body.isEmpty && method == "GET" ? nil : Array(body.utf8))
            #expect(response.status == status, "\(method) \(path) \(body)")
            #expect(response.errorCode == code, "\(method) \(path) \(body)")
            #expect((response.json?["error"] as? [String: Any])?["message"] as? String != nil)
        }
        // A valid post afterwards is the first and only record in the topic.
        let valid = try client.postJSON("/api/send-message", #"{"user_id":"alice","content":"hi"}"#)
        #expect(valid.status == 201)
        #expect(valid.json?["offset"] as? Int == 0)
    }

    @Test("a body over 64 KiB is 413 and nothing is produced")
    func tooLarge() throws {
        let running = try RunningApp()
        let content = String(repeating: "x", count: 70 * 1024)
        let response = try running.client().postJSON("/api/send-message", #"{"user_id":"alice","content":"\#(content)"}"#)
        #expect(response.status == 413)
        #expect(response.errorCode == "payload_too_large")
        // The topic's end offsets, not the consumer's count (which is 0 at once whether
        // or not a record is on its way).
        let admin = try KafkaAdmin(configuration: .init(bootstrapServers: running.app.bootstrapServers), logger: quietLogger)
        defer { admin.close() }
        let ends = try admin.watermarks(topic: "user-timeline", partitionCount: 6).mapValues(\.high)
        #expect(ends.count == 6)
        #expect(ends.values.allSatisfy { $0 == 0 }, "\(ends)")
        // The same post, small enough, does reach the topic: the check can fail.
        let small = try running.client().postJSON("/api/send-message", #"{"user_id":"alice","content":"x"}"#)
        #expect(small.status == 201)
        let after = try admin.watermarks(topic: "user-timeline", partitionCount: 6).mapValues(\.high)
        #expect(after.values.reduce(0, +) == 1)
    }

    @Test("/../ tricks never serve a file outside Public/")
    func traversal() throws {
        let running = try RunningApp()
        let paths = [
            "/../Package.swift", "/%2e%2e/Package.swift", "/..%2fPackage.swift", "/vendor/../../../etc/passwd",
            "/vendor/..%2f..%2f..%2fetc/passwd", "/./../README.md", "/vendor/chart.js/../../../../etc/passwd",
        ]
        for path in paths {
            let response = try running.client().get(path)
            #expect(!response.text.contains("swift-tools-version"), "\(path)")
            #expect(!response.text.contains("root:x:0:0"), "\(path)")
            #expect(!response.text.contains("./scripts/run.sh"), "\(path) served the README")
        }
    }

    @Test("the dashboard and Chart.js are served with their content types")
    func staticFiles() throws {
        let running = try RunningApp()
        let client = try running.client()
        let index = try client.get("/")
        #expect(index.status == 200)
        #expect(index.headers["content-type"] == "text/html; charset=utf-8")
        #expect(index.text.contains("<title>StreamSocial"))
        let script = try client.get("/app.js")
        #expect(script.headers["content-type"] == "text/javascript; charset=utf-8")
        let chart = try client.get("/vendor/chart.js/chart.min.js")
        #expect(chart.status == 200)
        #expect(chart.text.contains("Chart.js"))
    }
}
