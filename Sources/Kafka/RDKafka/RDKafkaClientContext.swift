internal import CRdKafka
import Logging
import Synchronization

/// What librdkafka's C callbacks need from Swift: the client's logger and, for a
/// consumer, the event handler. Set as the client's opaque (unretained); the Swift
/// client that owns the `rd_kafka_t` keeps this object alive until after
/// `rd_kafka_destroy`, so the pointer is valid whenever librdkafka calls back.
final class RDKafkaClientContext: Sendable {
    let logger: Logger
    let handler = Mutex<(@Sendable (KafkaConsumerEvent) -> Void)?>(nil)
    /// See ``KafkaConsumerConfiguration/replayOnFirstAssignment``.
    let replayOnFirstAssignment: Bool
    /// Partitions assigned at least once (consumer thread only, under the lock anyway).
    let assignedBefore = Mutex<Set<KafkaTopicPartition>>([])

    init(logger: Logger, replayOnFirstAssignment: Bool = false) {
        self.logger = logger
        self.replayOnFirstAssignment = replayOnFirstAssignment
    }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func of(_ client: OpaquePointer) -> RDKafkaClientContext? {
        guard let opaque = rd_kafka_opaque(client) else { return nil }
        return Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}
