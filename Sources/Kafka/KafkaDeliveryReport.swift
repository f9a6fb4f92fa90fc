/// Where the cluster stored a record: the outcome a client is told only after the broker
/// acknowledged the write (`acks=all`).
public struct KafkaDeliveryReport: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The record's timestamp in milliseconds since the epoch, when known.
    public var timestampMilliseconds: Int64?

    public init(topic: String, partition: Int32, offset: Int64, timestampMilliseconds: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMilliseconds = timestampMilliseconds
    }
}
