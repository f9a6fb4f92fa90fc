import ServerSupport
internal import CRdKafka

/// What the cluster says about itself: its brokers and topics.
public struct KafkaClusterMetadata: Sendable, Equatable {
    public struct Broker: Sendable, Equatable {
        public var id: Int32
        public var host: String
        public var port: Int32
    }

    public struct Topic: Sendable, Equatable {
        public var name: String
        public var partitionCount: Int
        /// Set when the broker reported an error for this topic.
        public var error: String?
        /// Each partition's leader broker, by partition (-1: none known).
        public var leaders: [Int32] = []
    }

    public var brokers: [Broker]
    /// Sorted by name.
    public var topics: [Topic]

    /// The partition count of each topic the brokers reported without an error.
    public var partitionCounts: [String: Int] {
        Dictionary(topics.filter { $0.error == nil }.map { ($0.name, $0.partitionCount) }) { first, _ in first }
    }

    /// `topic`'s partition count, if the brokers reported it without an error.
    public func partitionCount(of topic: String) -> Int? {
        topics.first { $0.name == topic && $0.error == nil }?.partitionCount
    }

    /// Blocking metadata request for all topics on `client`.
    static func fetch(client: OpaquePointer, timeout: Duration) throws(KafkaError) -> KafkaClusterMetadata {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(client, 1, nil, &metadata, Int32(clamping: timeout.wholeMilliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw .rdKafka(err, context: "metadata")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        let m = metadata.pointee
        let brokers = (0..<Int(m.broker_cnt)).map { index in
            let broker = m.brokers[index]
            return Broker(id: broker.id, host: String(cString: broker.host), port: broker.port)
        }
        let topics = (0..<Int(m.topic_cnt)).map { index in
            let topic = m.topics[index]
            let count = Int(max(0, topic.partition_cnt))
            var leaders = [Int32](repeating: -1, count: count)
            for partition in 0..<count {
                let entry = topic.partitions[partition]
                if entry.id >= 0, Int(entry.id) < count { leaders[Int(entry.id)] = entry.leader }
            }
            return Topic(
                name: String(cString: topic.topic),
                partitionCount: count,
                error: topic.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : String(cString: rd_kafka_err2str(topic.err)),
                leaders: leaders
            )
        }
        return KafkaClusterMetadata(brokers: brokers.sorted { $0.id < $1.id }, topics: topics.sorted { $0.name < $1.name })
    }
}
