/// What a ``KafkaConsumer`` hands its handler, in the order librdkafka produced it.
public enum KafkaConsumerEvent: Sendable, Equatable {
    /// A record. Its offset is stored for commit when the handler returns.
    case record(KafkaRecord)
    /// The group gave this consumer these partitions (or, without a group, the
    /// consumer assigned itself every partition).
    case assigned([KafkaTopicPartition])
    /// The group took these partitions away; their processed offsets are committed.
    case revoked([KafkaTopicPartition])
    /// A consumer error that librdkafka will retry by itself (broker down, …).
    case error(KafkaError)
}
