import App
import Foundation
import HTTPTestSupport
import Kafka
import Testing

@Suite("Health, status, and Kafka being away", .serialized)
struct StatusTests {
    @Test("/healthz is 200 and /api/status describes the embedded cluster")
    func healthy() throws {
        let running = try RunningApp()
        let client = try running.client()
        let health = try client.get("/healthz")
        #expect(health.status == 200)
        #expect(health.json?["brokers"] as? Int == 3)

        let status = try client.get("/api/status")
        #expect(status.status == 200)
        let kafka = try #require(status.json?["kafka"] as? [String: Any])
        #expect(kafka["mode"] as? String == "embedded")
        #expect(kafka["bootstrap_servers"] as? String == running.app.bootstrapServers)
        #expect((kafka["brokers"] as? [Any])?.count == 3)
        let topics = try #require(kafka["topics"] as? [[String: Any]])
        #expect(topics.contains { $0["name"] as? String == "user-timeline" && $0["partitions"] as? Int == 6 })
        #expect(status.json?["version"] as? String == StreamSocialVersion.current)
        #expect((status.json?["uptime_seconds"] as? Double ?? -1) >= 0)
    }

    @Test("with nothing listening at the bootstrap servers: starts, /healthz 503 with a reason, POST 503 within the timeout")
    func kafkaUnreachable() throws {
        let running = try RunningApp(bootstrapServers: "127.0.0.1:1", sendTimeout: .seconds(1))
        let client = try running.client()
        let health = try client.get("/healthz")
        #expect(health.status == 503)
        #expect(health.errorCode == "kafka_unavailable")
        #expect(((health.json?["error"] as? [String: Any])?["message"] as? String)?.isEmpty == false)

        let start = ContinuousClock.now
        let response = try client.postJSON("/api/send-message", #"{"user_id":"alice","content":"anyone?"}"#)
        let elapsed = ContinuousClock.now - start
        #expect(response.status == 503)
        #expect(response.errorCode == "kafka_unavailable")
        // The server knows Kafka is away (it could not read the log's end to continue
        // sequence numbers), so it refuses at once rather than after the send timeout.
        #expect(elapsed < .seconds(1), "took \(elapsed)")
        #expect((response.json?["error"] as? [String: Any])?["message"] as? String != nil)

        // Still serving.
        let status = try client.get("/api/status")
        #expect(status.status == 200)
        #expect((status.json?["kafka"] as? [String: Any])?["reachable"] as? Bool == false)
    }

    /// The issue's reproduction: with Kafka away, each probe waited for a 2 s metadata
    /// request on one queue, so 20 concurrent probes got 2 answers within 5 s.
    @Test("with Kafka away, 20 concurrent health and status probes are all answered at once")
    func probesDoNotQueue() throws {
        let running = try RunningApp(bootstrapServers: "127.0.0.1:1", sendTimeout: .seconds(1))
        let clients = try (0..<20).map { _ in try running.client() }
        let start = ContinuousClock.now
        for (index, client) in clients.enumerated() {
            try client.send("GET", index % 2 == 0 ? "/healthz" : "/api/status")
        }
        var statuses: [Int] = []
        for client in clients {
            statuses.append(try client.readResponse(method: "GET").status)
        }
        let elapsed = ContinuousClock.now - start
        #expect(statuses.filter { $0 == 503 }.count == 10)
        #expect(statuses.filter { $0 == 200 }.count == 10)
        #expect(elapsed < .seconds(1), "20 probes took \(elapsed)")
        let status = try running.client().get("/api/status").json?["kafka"] as? [String: Any]
        #expect(status?["durable"] as? Bool == true)
        #expect(status?["note"] == nil || status?["note"] is NSNull)
    }

    @Test("the embedded cluster says it is in memory")
    func embeddedIsNotDurable() throws {
        let running = try RunningApp()
        let kafka = try running.client().get("/api/status").json?["kafka"] as? [String: Any]
        #expect(kafka?["durable"] as? Bool == false)
        #expect(kafka?["note"] as? String == "embedded Kafka: in memory, lost on restart")
    }

    @Test("records that are not posts are counted as malformed, never shown, never fatal")
    func malformedRecords() async throws {
        let running = try RunningApp()
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: running.app.bootstrapServers), logger: quietLogger)
        defer { producer.close() }
        for value in ["not json", #"{"user_id":5}"#, #"{"content":"no user"}"#, ""] {
            _ = try await producer.send(topic: "user-timeline", key: nil, value: Array(value.utf8))
        }
        let good = try running.client().postJSON("/api/send-message", #"{"user_id":"ok","content":"fine"}"#)
        #expect(good.status == 201)
        let client = try running.client()
        #expect(try eventually {
            let feed = try client.get("/api/status").json?["feed"] as? [String: Any]
            return feed?["malformed"] as? Int == 4 && feed?["consumed"] as? Int == 1
        })
    }
}
