internal import CRdKafka
import Dispatch
import HTTPTestSupport
@testable import Kafka
import Synchronization
import Testing

@Suite("One librdkafka client, closed once")
struct RDKafkaClientTests {
    static func client() throws -> RDKafkaClient {
        try RDKafkaClient(type: RD_KAFKA_PRODUCER, settings: [("log_level", "3")], context: RDKafkaClientContext(logger: quietLogger))
    }

    @Test("close waits for a call in progress, runs its teardown once, and refuses every later call")
    func closeWaitsAndRefuses() throws {
        let client = try Self.client()
        let inside = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let callFinished = Atomic<Bool>(false)
        let caller = DispatchGroup()
        DispatchQueue.global().async(group: caller) {
            _ = try? client.use { handle throws(KafkaError) in
                inside.signal()
                release.wait()
                #expect(client.topic("t") != nil)  // the handle is alive inside a call
                callFinished.store(true, ordering: .releasing)
            }
        }
        inside.wait()
        let teardowns = Atomic<Int>(0)
        let closer = DispatchGroup()
        DispatchQueue.global().async(group: closer) {
            client.close { _ in
                // Runs only once the call above has returned.
                let finished = callFinished.load(ordering: .acquiring)
                #expect(finished)
                teardowns.add(1, ordering: .relaxed)
            }
        }
        // The closer is waiting: a new call is refused already.
        #expect(eventually { client.isClosed })
        #expect(try client.use { _ throws(KafkaError) in 1 } == nil)
        release.signal()
        caller.wait()
        closer.wait()
        #expect(client.close { _ in teardowns.add(1, ordering: .relaxed) } == false)
        let count = teardowns.load(ordering: .relaxed)
        #expect(count == 1)
    }

    @Test("the embedded cluster, once stopped, refuses calls instead of touching freed memory")
    func stoppedClusterRefuses() throws {
        let cluster = try EmbeddedKafka(brokers: 1, topics: [], logger: quietLogger)
        try cluster.setBroker(1, up: true)
        cluster.stop()
        cluster.stop()
        #expect(throws: KafkaError.self) { try cluster.setBroker(1, up: false) }
        #expect(throws: KafkaError.self) { try cluster.createTopic(.init("late", partitions: 1)) }
        cluster.failNextRequests(apiKey: 0, count: 1, error: 7)  // ignored, no crash
    }
}
