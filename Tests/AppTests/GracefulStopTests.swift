import App
import Dispatch
import Foundation
import HTTPTestSupport
import Kafka
import Leaderboard
import Synchronization
import Testing
import Timeline

/// Stopping under load, against a cluster that outlives the server (an embedded cluster
/// of the test's own, used as an external one).
@Suite("Stopping under load", .serialized)
struct GracefulStopTests {
    /// The brokers answer after 300 ms, so posts are waiting for their acknowledgement
    /// when the stop begins: those are answered, not cut.
    @Test("a stop under load: posts in flight get their 201, later ones 503 stopping, every 201 is in Kafka, WebSockets see 1001, bounded")
    func stopUnderLoad() async throws {
        let cluster = try EmbeddedKafka(
            topics: [KafkaTopicSpec("user-timeline", partitions: 6)] + LeaderboardRestartTests.workshopTopics, logger: quietLogger
        )
        defer { cluster.stop() }
        let running = try RunningApp(bootstrapServers: cluster.bootstrapServers, sendTimeout: .seconds(5))
        #expect(running.app.waitUntilReady(timeout: .seconds(20)))
        let socket = try TestWebSocket(port: running.port)
        for broker in Int32(1)...3 { try cluster.setBroker(broker, roundTripTime: .milliseconds(300)) }

        struct Answer { var user: String; var content: String; var response: TestResponse; var at: ContinuousClock.Instant }
        let answers = Mutex<[Answer]>([])
        let endings = Mutex<[String]>([])
        let workers = DispatchGroup()
        let port = running.port
        for worker in 0..<8 {
            DispatchQueue.global().async(group: workers) {
                var index = 0
                var client: TestHTTPClient?
                while true {
                    // A new connection when the server said it closes this one (it does while
                    // stopping); once it stopped listening, nothing is sent: a clean end.
                    let connection: TestHTTPClient
                    do {
                        connection = try client ?? TestHTTPClient(port: port)
                    } catch {
                        endings.withLock { $0.append("refused") }
                        return
                    }
                    let (user, content) = ("s\(worker)", "post \(index)")
                    do {
                        let response = try connection.postJSON("/api/send-message", #"{"user_id":"\#(user)","content":"\#(content)"}"#)
                        answers.withLock { $0.append(Answer(user: user, content: content, response: response, at: .now)) }
                        if response.status != 201 {
                            endings.withLock { $0.append("\(response.status) \(response.errorCode ?? "")") }
                            return
                        }
                        client = response.headers["connection"]?.lowercased() == "close" ? nil : connection
                    } catch {
                        // A request sent and never answered: what the stop must not do.
                        endings.withLock { $0.append("cut: \(error)") }
                        return
                    }
                    index += 1
                }
            }
        }
        try await Task.sleep(for: .seconds(2))
        let began = ContinuousClock.now
        running.app.stop()
        let took = ContinuousClock.now - began
        workers.wait()

        #expect(took < .seconds(5), "the stop took \(took)")
        // Every worker's last request was refused in words (or found the server gone
        // before sending anything, after being told the connection closes): none cut off.
        let ended = endings.withLock { $0 }
        #expect(ended.count == 8 && ended.allSatisfy { $0 == "503 stopping" || $0 == "refused" }, "\(ended)")
        #expect(ended.contains("503 stopping"), "\(ended)")
        let all = answers.withLock { $0 }
        let acknowledged = all.filter { $0.response.status == 201 }
        // Posts waiting for Kafka when the stop began were answered, not dropped.
        #expect(acknowledged.contains { $0.at > began }, "no post was in flight at the stop")
        // Answers written while draining say the connection closes, so no client sends
        // into a closing socket (one written just before the drain began may not).
        #expect(acknowledged.contains { $0.at > began && $0.response.headers["connection"]?.lowercased() == "close" })
        #expect(acknowledged.count >= 16)
        // The page's frames, then the close.
        var closed: String?
        for _ in 0..<10_000 {
            do { _ = try socket.receive() } catch {
                closed = "\(error)"
                break
            }
        }
        #expect(closed == "websocket closed with 1001")

        // Every acknowledged post is in the topic where its answer said.
        for broker in Int32(1)...3 { try cluster.setBroker(broker, roundTripTime: .zero) }
        let seen = Mutex<[KafkaTopicPartition: [Int64: PostRecord]]>([:])
        let reader = try KafkaConsumer(
            configuration: .init(bootstrapServers: cluster.bootstrapServers),
            consumer: .init(mode: .assignAllFromEarliest(topics: ["user-timeline"])), logger: quietLogger
        )
        reader.run { event in
            guard case .record(let record) = event, case .success(let post) = PostRecord.decode(record.value) else { return }
            seen.withLock { $0[KafkaTopicPartition(topic: record.topic, partition: record.partition), default: [:]][record.offset] = post }
        }
        defer { reader.close() }
        func stored(_ answer: Answer) -> PostRecord? {
            guard let json = answer.response.json, let partition = json["partition"] as? Int, let offset = json["offset"] as? Int else { return nil }
            return seen.withLock { $0[KafkaTopicPartition(topic: "user-timeline", partition: Int32(partition))]?[Int64(offset)] }
        }
        #expect(await eventuallyAsync(timeout: .seconds(15)) { acknowledged.allSatisfy { stored($0) != nil } })
        for answer in acknowledged {
            let post = stored(answer)
            #expect(post?.userID == answer.user && post?.content == answer.content, "\(answer.user) \(answer.content): \(answer.response.text)")
        }
    }
}
