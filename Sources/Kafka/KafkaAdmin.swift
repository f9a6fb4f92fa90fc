internal import CRdKafka
public import Logging
import Synchronization

/// Questions about the cluster: metadata, watermarks, a group's committed offsets.
///
/// Every method blocks for up to its timeout: call them from a thread or dispatch queue
/// you own, never from Swift's cooperative pool or the HTTP service thread.
public final class KafkaAdmin: Sendable {
    private let configuration: KafkaConfiguration
    private let context: RDKafkaClientContext
    private let client: SendableHandle
    /// One consumer-type handle per group whose offsets were asked for; they never join
    /// the group, they only fetch its committed offsets.
    private let groupClients = Mutex<[String: SendableHandle]>([:])
    private let closed = Mutex(false)

    /// - Throws: ``KafkaError/Code/configuration`` when librdkafka rejects a property.
    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        self.configuration = configuration
        self.context = RDKafkaClientContext(logger: logger)
        let settings = configuration.dictionary + configuration.passThrough
        self.client = SendableHandle(try RDKafkaConfig.makeClient(type: RD_KAFKA_PRODUCER, settings: settings, context: context))
    }

    /// Brokers and topics, as the cluster answers now.
    public func metadata(timeout: Duration = .seconds(2)) throws(KafkaError) -> KafkaClusterMetadata {
        try KafkaClusterMetadata.fetch(client: client.pointer, timeout: timeout)
    }

    /// The low and high watermarks (first offset, next offset to be written).
    public func watermarks(topic: String, partition: Int32, timeout: Duration = .seconds(2)) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = 0
        var high: Int64 = 0
        let err = rd_kafka_query_watermark_offsets(client.pointer, topic, partition, &low, &high, Int32(clamping: timeout.milliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdKafka(err, context: "watermarks of \(topic)[\(partition)]") }
        return (low, high)
    }

    /// The offsets `group` committed for `partitions` (the next offset it will read);
    /// partitions without a commit are left out.
    public func committedOffsets(group: String, partitions: [KafkaTopicPartition], timeout: Duration = .seconds(2)) throws(KafkaError) -> [KafkaTopicPartition: Int64] {
        let handle = try groupClient(group)
        let list = RDKafkaTopicPartitionList(partitions)
        let err = list.withPointer { rd_kafka_committed(handle.pointer, $0, Int32(clamping: timeout.milliseconds)) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdKafka(err, context: "committed offsets of \(group)") }
        var result: [KafkaTopicPartition: Int64] = [:]
        for (partition, offset) in list.offsets where offset >= 0 {
            result[partition] = offset
        }
        return result
    }

    /// Destroys every client. Idempotent.
    public func close() {
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        let groups = groupClients.withLock { clients in
            defer { clients = [:] }
            return Array(clients.values)
        }
        for handle in groups { rd_kafka_destroy(handle.pointer) }
        rd_kafka_destroy(client.pointer)
    }

    private func groupClient(_ group: String) throws(KafkaError) -> SendableHandle {
        try groupClients.withLock { clients throws(KafkaError) -> SendableHandle in
            if let handle = clients[group] { return handle }
            let settings = configuration.dictionary + [("group.id", group), ("enable.auto.commit", "false")] + configuration.passThrough
            let handle = SendableHandle(try RDKafkaConfig.makeClient(type: RD_KAFKA_CONSUMER, settings: settings, context: context))
            clients[group] = handle
            return handle
        }
    }
}
