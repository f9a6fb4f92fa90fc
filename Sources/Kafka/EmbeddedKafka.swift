import ServerSupport
internal import CRdKafka
public import Logging
import Synchronization

/// A Kafka cluster inside this process: librdkafka's mock cluster, listening on random
/// loopback TCP ports and speaking the Kafka protocol to any client (Java, Python, …).
///
/// It supports produce, fetch, list offsets, metadata, consumer groups with offset
/// commit/fetch and idempotent producers; it does not answer ListGroups, DescribeGroups
/// or CreateTopics, so topics are created here. Its API is experimental in librdkafka:
/// this file is the only user of `rdkafka_mock.h`.
public final class EmbeddedKafka: Sendable {
    /// The `bootstrap.servers` list of the cluster's brokers on 127.0.0.1.
    public let bootstrapServers: String
    /// Number of brokers.
    public let brokerCount: Int

    /// The client the cluster lives in; it never connects anywhere.
    private let host: RDKafkaClient
    private let cluster: SendableHandle
    /// Topics created so far: where the next one's leaders start.
    private let topicsCreated = Mutex(0)

    /// Starts `brokers` brokers and creates `topics`.
    /// - Throws: ``KafkaError`` when the cluster or a topic cannot be created.
    public init(brokers: Int = 3, topics: [KafkaTopicSpec] = [], logger: Logger) throws(KafkaError) {
        let host = try RDKafkaClient(type: RD_KAFKA_PRODUCER, settings: [
            ("client.id", "streamsocial-embedded-kafka"),
            // It has no bootstrap.servers on purpose; don't warn about it.
            ("log_level", "3"),
        ], context: RDKafkaClientContext(logger: logger))
        guard let made = try? host.use({ rd_kafka_mock_cluster_new($0, Int32(clamping: brokers)) }), let cluster = made else {
            throw KafkaError(.other, "could not start the embedded Kafka cluster")
        }
        self.host = host
        self.cluster = SendableHandle(cluster)
        self.brokerCount = brokers
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        for topic in topics {
            do {
                try createTopic(topic)
            } catch {
                stop()
                throw error
            }
        }
    }

    /// Creates a topic with a replication factor of up to 3 (fewer with fewer brokers).
    /// The embedded cluster ignores topic-level config (it does not compact).
    ///
    /// Leaders go round the brokers, each topic starting one broker further, as Kafka
    /// assigns them. librdkafka's mock picks each leader at random: where user-timeline's
    /// six leaders fell on two brokers, the producer sent a third fewer requests per
    /// batch, and a benchmark run differed from the next by a quarter.
    public func createTopic(_ topic: KafkaTopicSpec) throws(KafkaError) {
        let replicas = Int32(min(3, brokerCount))
        let partitions = Int32(clamping: topic.partitions)
        let err = try onCluster { rd_kafka_mock_topic_create($0, topic.name, partitions, replicas) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdKafka(err, context: "create topic \(topic.name)") }
        guard brokerCount > 0 else { return }
        let first = topicsCreated.withLock { count in
            defer { count += 1 }
            return count % brokerCount
        }
        for partition in 0..<max(0, partitions) {
            let broker = Int32((first + Int(partition)) % brokerCount + 1)
            try setLeader(topic: topic.name, partition: partition, broker: broker)
        }
    }

    /// Takes a broker down (its connections close, it refuses new ones) or back up: for
    /// reliability tests. Broker ids start at 1.
    public func setBroker(_ id: Int32, up: Bool) throws(KafkaError) {
        let err = try onCluster { up ? rd_kafka_mock_broker_set_up($0, id) : rd_kafka_mock_broker_set_down($0, id) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdKafka(err, context: "broker \(id)") }
    }

    /// Delays every answer of broker `id` by `rtt` (zero: none): for lessons on latency
    /// and lag, and for tests.
    public func setBroker(_ id: Int32, roundTripTime rtt: Duration) throws(KafkaError) {
        let err = try onCluster { rd_kafka_mock_broker_set_rtt($0, id, Int32(clamping: rtt.wholeMilliseconds)) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdKafka(err, context: "broker \(id) round-trip time") }
    }

    /// Makes broker `id` the leader of `topic`'s `partition`: clients learn it from a
    /// NOT_LEADER error and a metadata refresh, as in a real leader election.
    public func setLeader(topic: String, partition: Int32, broker id: Int32) throws(KafkaError) {
        let err = try onCluster { rd_kafka_mock_partition_set_leader($0, topic, partition, id) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdKafka(err, context: "leader of \(topic)[\(partition)]") }
    }

    /// Makes the next `count` requests of type `apiKey` (0: Produce, 1: Fetch, …) fail
    /// with `error`, a Kafka error code (e.g. 6 NOT_LEADER_OR_FOLLOWER, 7
    /// REQUEST_TIMED_OUT): for tests of retries.
    public func failNextRequests(apiKey: Int16, count: Int, error: Int32) {
        var errors = [rd_kafka_resp_err_t](repeating: rd_kafka_resp_err_t(rawValue: error), count: max(0, count))
        _ = try? onCluster { cluster in
            errors.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_mock_push_request_errors_array(cluster, apiKey, buffer.count, buffer.baseAddress)
            }
        }
    }

    /// Stops the brokers and frees the cluster. Idempotent; blocking.
    public func stop() {
        host.close { _ in rd_kafka_mock_cluster_destroy(cluster.pointer) }
    }

    /// librdkafka aborts the process when a client is destroyed with its mock cluster
    /// still alive; a cluster dropped without ``stop()`` did exactly that.
    deinit {
        stop()
    }

    /// Runs `body` on the cluster unless it stopped.
    /// - Throws: ``KafkaError/Code/shutdown`` once stopped.
    private func onCluster<R>(_ body: (OpaquePointer) -> R) throws(KafkaError) -> R {
        guard let result = try host.use({ _ in body(cluster.pointer) }) else {
            throw KafkaError(.shutdown, "the embedded cluster has stopped")
        }
        return result
    }
}
