/// A topic StreamSocial needs: its name, partition count and topic-level settings
/// (`cleanup.policy=compact`, `retention.ms`, …).
public struct KafkaTopicSpec: Sendable, Equatable {
    public var name: String
    public var partitions: Int
    /// Broker-side topic configuration, applied when the topic is created.
    public var config: [String: String]

    public init(_ name: String, partitions: Int, config: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.config = config
    }
}
