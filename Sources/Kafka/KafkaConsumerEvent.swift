/// What a ``KafkaConsumer`` hands its handler, in the order librdkafka produced it.
public enum KafkaConsumerEvent: Sendable, Equatable {
    /// A record. Its offset is stored for commit when the handler returns.
    case record(KafkaRecord)
    /// The group gave this consumer these partitions (or, without a group, the
    /// consumer assigned itself every partition).
    case assigned([KafkaTopicPartition])
    /// The group took these partitions away; their processed offsets are committed.
    case revoked([KafkaTopicPartition])
    /// The consumer has read everything in this partition for now (its offset reached
    /// the high watermark). Only with ``KafkaConsumerConfiguration/reportsEndOfPartition``;
    /// reported again each time the partition is caught up after new records.
    case endOfPartition(KafkaTopicPartition)
    /// A consumer error that librdkafka will retry by itself (broker down, …).
    case error(KafkaError)
}
