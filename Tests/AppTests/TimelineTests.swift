import App
import Dispatch
import Foundation
import HTTPTestSupport
import Kafka
import Synchronization
import Testing
import Timeline

/// Posts `posts` (user, content) over `connections` keep-alive connections at once.
/// Returns the acknowledged responses.
func postConcurrently(port: Int, posts: [(String, String)], keyStrategy: String = "user", connections: Int = 20) throws -> [TestResponse] {
    let results = Mutex<[TestResponse]>([])
    let failures = Mutex<[String]>([])
    DispatchQueue.concurrentPerform(iterations: connections) { lane in
        do {
            let client = try TestHTTPClient(port: port)
            for index in stride(from: lane, to: posts.count, by: connections) {
                let (user, content) = posts[index]
                let response = try client.postJSON("/api/send-message", #"{"user_id":"\#(user)","content":"\#(content)","key_strategy":"\#(keyStrategy)"}"#)
                results.withLock { $0.append(response) }
            }
        } catch {
            failures.withLock { $0.append("\(error)") }
        }
    }
    if let failure = failures.withLock({ $0.first }) { throw TestClientError(failure) }
    return results.withLock { $0 }
}

@Suite("Timelines, ordering and partitions, through the embedded Kafka", .serialized)
struct TimelineAppTests {
    @Test("10 users × 200 posts at once, keyed by user: all stored, in order, each user in its murmur2 partition")
    func keyedByUser() throws {
        let running = try RunningApp()
        let users = (0..<10).map { "user\($0)" }
        let posts = (0..<200).flatMap { n in users.map { ($0, "post \(n)") } }
        let responses = try postConcurrently(port: running.port, posts: posts)
        #expect(responses.count == 2000)
        #expect(responses.allSatisfy { $0.status == 201 })
        // Each user's sequence numbers are 1...200, each once.
        var sequences: [String: [Int]] = [:]
        for response in responses {
            if let user = response.json?["user_id"] as? String, let seq = response.json?["seq"] as? Int { sequences[user, default: []].append(seq) }
        }
        for user in users { #expect(sequences[user]?.sorted() == Array(1...200), "\(user)") }

        let client = try running.client()
        #expect(eventually(timeout: .seconds(20)) {
            ((try? client.get("/api/ordering"))?.json?["counters"] as? [String: Any])?["checked"] as? Int == 2000
        })
        let ordering = try client.get("/api/ordering").json
        #expect(ordering?["violations"] as? Int == 0)
        let listing = try #require(try client.get("/api/users?limit=100").json)
        #expect(listing["total"] as? Int == 10)
        for row in try #require(listing["users"] as? [[String: Any]]) {
            let user = try #require(row["user_id"] as? String)
            #expect(row["post_count"] as? Int == 200)
            #expect(row["last_seq"] as? Int == 200)
            #expect(row["violations"] as? Int == 0)
            #expect(row["partitions"] as? [Int] == [Murmur2.partition(for: user, partitionCount: 6)], "\(user)")
        }
        let timeline = try #require(try client.get("/api/timeline/user3?limit=5").json)
        #expect((timeline["posts"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int } == [200, 199, 198, 197, 196])
        #expect((timeline["ordering"] as? [String: Any])?["status"] as? String == "ok")
        #expect(timeline["key_partition"] as? Int == Murmur2.partition(for: "user3", partitionCount: 6))

        let partitions = try #require(try client.get("/api/partitions").json)
        #expect(partitions["total_messages"] as? Int == 2000)
        let rows = try #require(partitions["partitions"] as? [[String: Any]])
        #expect(rows.reduce(0) { $0 + ($1["messages"] as? Int ?? 0) } == 2000)
    }

    @Test("without keys one user's posts scatter over partitions and the verifier reports why")
    func noKey() throws {
        let running = try RunningApp()
        let posts = (0..<100).flatMap { n in ["ann", "ben", "cat", "dov", "eve"].map { ($0, "post \(n)") } }
        let responses = try postConcurrently(port: running.port, posts: posts, keyStrategy: "none")
        #expect(responses.allSatisfy { $0.status == 201 })
        let client = try running.client()
        #expect(eventually(timeout: .seconds(20)) {
            ((try? client.get("/api/ordering"))?.json?["counters"] as? [String: Any])?["checked"] as? Int == 500
        })
        let ordering = try #require(try client.get("/api/ordering").json)
        #expect((ordering["violations"] as? Int ?? 0) > 0)
        let recent = try #require(ordering["recent_violations"] as? [[String: Any]])
        #expect(!recent.isEmpty)
        for violation in recent {
            #expect(["gap", "out_of_order"].contains(violation["kind"] as? String ?? ""))
            #expect(violation["expected"] as? Int != violation["got"] as? Int)
            #expect((violation["record"] as? [String: Any])?["offset"] != nil)
        }
        let ann = try #require(try client.get("/api/timeline/ann").json)
        #expect(((ann["partitions"] as? [Int])?.count ?? 0) > 1)
        #expect(ann["post_count"] as? Int == 100)  // still all stored, in sequence order
        #expect((ann["posts"] as? [[String: Any]])?.first?["seq"] as? Int == 100)
    }

    /// The issue's reproduction: a student's consumer with the group name the lag panel
    /// showed took half the partitions (the dashboard showed half the posts), and a
    /// server restarted in that state answered 503 recovering for over 120 s.
    @Test("a student's consumer in the server's group takes nothing; a restart does not wait for it")
    func groupHijack() async throws {
        let cluster = try EmbeddedKafka(topics: [KafkaTopicSpec("user-timeline", partitions: 6)], logger: quietLogger)
        defer { cluster.stop() }
        var hijackers: [KafkaConsumer] = []
        defer { for hijacker in hijackers { hijacker.close() } }
        let assigned = Mutex(0)
        func hijack(_ group: String) throws {
            var settings = KafkaConsumerConfiguration(mode: .group(id: group, topics: ["user-timeline"]))
            settings.sessionTimeout = .seconds(30)
            let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers), consumer: settings, logger: quietLogger)
            consumer.run { event in if case .assigned(let partitions) = event { assigned.withLock { $0 += partitions.count } } }
            hijackers.append(consumer)
        }
        let users = (1...12).map { "h\($0)" }  // spread over the six partitions
        do {
            let first = try RunningApp(bootstrapServers: cluster.bootstrapServers)
            #expect(first.app.waitUntilReady(timeout: .seconds(20)))
            let client = try first.client()
            let group = try #require((try client.get("/api/metrics").json?["lag"] as? [String: Any])?["group"] as? String)
            try hijack(group)
            try hijack("timeline-consumer-group")
            #expect(await eventuallyAsync(timeout: .seconds(15)) { assigned.withLock { $0 } >= 12 })
            for user in users {
                #expect(try client.postJSON("/api/send-message", #"{"user_id":"\#(user)","content":"hello"}"#).status == 201)
            }
            #expect(eventually(timeout: .seconds(10)) {
                users.allSatisfy { (try? client.get("/api/timeline/\($0)"))?.json?["post_count"] as? Int == 1 }
            }, "the server lost partitions to a student's consumer")
        }
        let start = ContinuousClock.now
        let second = try RunningApp(bootstrapServers: cluster.bootstrapServers)
        #expect(second.app.waitUntilReady(timeout: .seconds(15)))
        #expect(ContinuousClock.now - start < .seconds(15))
        let client = try second.client()
        #expect(users.allSatisfy { (try? client.get("/api/timeline/\($0)"))?.json?["post_count"] as? Int == 1 })
    }

    @Test("restart against the same cluster: timelines come back and sequences continue")
    func restart() throws {
        let cluster = try EmbeddedKafka(topics: [KafkaTopicSpec("user-timeline", partitions: 6)], logger: quietLogger)
        defer { cluster.stop() }
        do {
            let first = try RunningApp(bootstrapServers: cluster.bootstrapServers)
            #expect(first.app.waitUntilReady(timeout: .seconds(20)))
            let client = try first.client()
            for index in 1...5 {
                let response = try client.postJSON("/api/send-message", #"{"user_id":"rita","content":"before \#(index)"}"#)
                #expect(response.json?["seq"] as? Int == index)
            }
        }
        let second = try RunningApp(bootstrapServers: cluster.bootstrapServers)
        #expect(second.app.waitUntilReady(timeout: .seconds(30)))
        let client = try second.client()
        let timeline = try #require(try client.get("/api/timeline/rita").json)
        #expect(timeline["post_count"] as? Int == 5)
        #expect((timeline["posts"] as? [[String: Any]])?.first?["content"] as? String == "before 5")
        let next = try client.postJSON("/api/send-message", #"{"user_id":"rita","content":"after"}"#)
        #expect(next.status == 201)
        #expect(next.json?["seq"] as? Int == 6)
        #expect(eventually(timeout: .seconds(10)) {
            (try? client.get("/api/timeline/rita"))?.json?["last_seq"] as? Int == 6
        })
        #expect(try client.get("/api/ordering").json?["violations"] as? Int == 0)
    }

    @Test("records that are not posts are counted with partition and offset, never fatal, never in a timeline")
    func malformed() async throws {
        let running = try RunningApp()
        let producer = try KafkaProducer(
            configuration: .init(bootstrapServers: running.app.bootstrapServers, properties: ["message.max.bytes": "2000000"]),
            logger: quietLogger
        )
        defer { producer.close() }
        let values: [[UInt8]] = [
            Array("not json".utf8),
            Array(#"{"user_id":"mal","content":"no seq","ts":1}"#.utf8),
            Array(#"{"user_id":"mal","content":5,"seq":1,"ts":1}"#.utf8),
            Array(#"{"user_id":"mal","content":"x","seq":"1","ts":1}"#.utf8),
            [UInt8](repeating: UInt8(ascii: "a"), count: 1_048_576),
        ]
        var positions: [(Int32, Int64)] = []
        for value in values {
            let report = try await producer.send(topic: "user-timeline", key: Array("mal".utf8), value: value)
            positions.append((report.partition, report.offset))
        }
        let good = try running.client().postJSON("/api/send-message", #"{"user_id":"mal","content":"fine"}"#)
        #expect(good.status == 201)
        let client = try running.client()
        #expect(eventually(timeout: .seconds(10)) {
            ((try? client.get("/api/ordering"))?.json?["malformed"] as? [String: Any])?["count"] as? Int == 5
        })
        let malformed = try #require(try client.get("/api/ordering").json?["malformed"] as? [String: Any])
        #expect(malformed["by_reason"] as? [String: Int] == ["not_json": 1, "missing_field": 1, "wrong_type": 2, "too_large": 1])
        let recent = try #require(malformed["recent"] as? [[String: Any]])
        for (partition, offset) in positions {
            #expect(recent.contains { $0["partition"] as? Int == Int(partition) && $0["offset"] as? Int == Int(offset) })
        }
        #expect(eventually(timeout: .seconds(10)) { (try? client.get("/api/timeline/mal"))?.json?["post_count"] as? Int == 1 })
        let timeline = try #require(try client.get("/api/timeline/mal").json)
        #expect(timeline["post_count"] as? Int == 1)
        #expect((timeline["posts"] as? [[String: Any]])?.first?["content"] as? String == "fine")
        #expect(try client.get("/healthz").status == 200)
    }

    /// The issue's reproduction: a forged seq of Int64.max, then any record for the same
    /// user, crashed the server (arithmetic overflow), and every restart replayed it.
    @Test("forged records that break the POST rules are counted as malformed; the server keeps serving that user")
    func poisonRecords() async throws {
        let running = try RunningApp()
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: running.app.bootstrapServers), logger: quietLogger)
        defer { producer.close() }
        let forged = [
            #"{"user_id":"v","content":"a","seq":9223372036854775807,"ts":1}"#,
            #"{"user_id":"v","content":"b","seq":2,"ts":1}"#,
            #"{"user_id":"v\u0000x","content":"a","seq":1,"ts":1}"#,
            #"{"user_id":"\#(String(repeating: "u", count: 10_000))","content":"a","seq":1,"ts":1}"#,
        ]
        for value in forged {
            _ = try await producer.send(topic: "user-timeline", key: Array("v".utf8), value: Array(value.utf8))
        }
        let client = try running.client()
        #expect(eventually(timeout: .seconds(10)) {
            ((try? client.get("/api/ordering"))?.json?["malformed"] as? [String: Any])?["count"] as? Int == 3
        })
        let malformed = try #require(try client.get("/api/ordering").json?["malformed"] as? [String: Any])
        #expect(malformed["by_reason"] as? [String: Int] == ["out_of_range": 1, "invalid_user_id": 2])
        // The well-formed forged record (seq 2) is a post with a gap; the user stays reachable.
        let posted = try client.postJSON("/api/send-message", #"{"user_id":"v","content":"after"}"#)
        #expect(posted.status == 201)
        #expect(eventually(timeout: .seconds(10)) { (try? client.get("/api/timeline/v"))?.json?["post_count"] as? Int == 2 })
        #expect(try client.get("/healthz").status == 200)
    }

    /// A record produced with the highest sequence number a post may have: on the next
    /// start the user's next number would pass it, and the server acknowledged posts
    /// its own consumer then refused as out of range.
    @Test("a user whose sequence numbers a record used up gets 409, not a post that never appears")
    func sequenceExhausted() async throws {
        let cluster = try EmbeddedKafka(topics: [KafkaTopicSpec("user-timeline", partitions: 6)], logger: quietLogger)
        defer { cluster.stop() }
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        defer { producer.close() }
        let value = #"{"user_id":"x","content":"last","seq":\#(PostRecord.maxSequence),"ts":1}"#
        _ = try await producer.send(topic: "user-timeline", key: Array("x".utf8), value: Array(value.utf8))
        let running = try RunningApp(bootstrapServers: cluster.bootstrapServers)
        #expect(running.app.waitUntilReady(timeout: .seconds(20)))
        let client = try running.client()
        let refused = try client.postJSON("/api/send-message", #"{"user_id":"x","content":"one more"}"#)
        #expect(refused.status == 409)
        #expect(refused.errorCode == "sequence_exhausted")
        #expect(try client.postJSON("/api/send-message", #"{"user_id":"y","content":"fine"}"#).status == 201)
    }

    @Test("batch posts: each item answered in order, bad items rejected on their own")
    func batch() throws {
        let running = try RunningApp()
        let client = try running.client()
        let body = #"[{"user_id":"bo","content":"one"},{"user_id":"","content":"x"},7,{"user_id":"bo","content":"two","key_strategy":"user"},{"user_id":"bo","content":"x","key_strategy":"weird"}]"#
        let response = try client.postJSON("/api/send-messages", body)
        #expect(response.status == 200)
        #expect(response.json?["accepted"] as? Int == 2)
        #expect(response.json?["rejected"] as? Int == 3)
        let results = try #require(response.json?["results"] as? [[String: Any]])
        #expect(results.map { $0["status"] as? Int } == [201, 400, 400, 201, 400])
        #expect((results[0]["post"] as? [String: Any])?["seq"] as? Int == 1)
        #expect((results[3]["post"] as? [String: Any])?["seq"] as? Int == 2)
        #expect((results[1]["error"] as? [String: Any])?["code"] as? String == "invalid_field")

        let tooMany = "[" + Array(repeating: #"{"user_id":"x","content":"y"}"#, count: 501).joined(separator: ",") + "]"
        let refused = try client.postJSON("/api/send-messages", tooMany)
        #expect(refused.status == 400)
        #expect(refused.errorCode == "too_many_items")
        for bad in ["{}", "[", #"{"user_id":"x"}"#, "[]"] {
            let answer = try client.postJSON("/api/send-messages", bad)
            #expect(answer.status == 400, "\(bad)")
        }
        let exactly500 = "[" + (0..<500).map { #"{"user_id":"b\#($0 % 9)","content":"y"}"# }.joined(separator: ",") + "]"
        let full = try client.postJSON("/api/send-messages", exactly500)
        #expect(full.json?["accepted"] as? Int == 500)
    }

    @Test("reading APIs validate their parameters")
    func readingErrors() throws {
        let running = try RunningApp()
        let client = try running.client()
        #expect(try client.get("/api/timeline/nobody").status == 404)
        #expect(try client.get("/api/timeline/nobody").errorCode == "unknown_user")
        _ = try client.postJSON("/api/send-message", #"{"user_id":"val","content":"x"}"#)
        for path in ["/api/timeline/val?limit=0", "/api/timeline/val?limit=abc", "/api/timeline/val?limit=101", "/api/users?sort=age", "/api/users?limit=-1", "/api/metrics?seconds=301"] {
            let response = try client.get(path)
            #expect(response.status == 400, "\(path)")
            #expect(response.errorCode == "invalid_field", "\(path)")
        }
        let metrics = try #require(try client.get("/api/metrics").json)
        #expect(((metrics["throughput"] as? [String: Any])?["produced"] as? [Int])?.count == 300)
        #expect(((metrics["lag"] as? [String: Any])?["group"] as? String)?.hasPrefix("timeline-consumer-group-") == true)
    }
}
