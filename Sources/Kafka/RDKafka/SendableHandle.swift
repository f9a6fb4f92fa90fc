/// A C handle that librdkafka documents as thread-safe (`rd_kafka_t`,
/// `rd_kafka_topic_t`, `rd_kafka_queue_t`). This is the one place such handles are
/// declared `Sendable`.
struct SendableHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}
