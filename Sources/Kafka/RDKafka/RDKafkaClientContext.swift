internal import CRdKafka
import Logging
import Synchronization

/// What librdkafka's C callbacks need from Swift: the client's logger and, for a
/// consumer, the event handler. Set as the client's opaque (unretained); the Swift
/// client that owns the `rd_kafka_t` keeps this object alive until after
/// `rd_kafka_destroy`, so the pointer is valid whenever librdkafka calls back.
final class RDKafkaClientContext: Sendable {
    let logger: Logger
    /// See ``KafkaConsumerConfiguration/replayOnFirstAssignment``.
    let replayOnFirstAssignment: Bool
    private let state = Mutex(State())

    private struct State {
        var handler: (@Sendable (KafkaConsumerEvent) -> Void)?
        /// Partitions assigned at least once.
        var assignedBefore: Set<KafkaTopicPartition> = []
    }

    /// A consumer's event handler; nil before it runs and after it closed.
    var handler: (@Sendable (KafkaConsumerEvent) -> Void)? {
        get { state.withLock { $0.handler } }
        set { state.withLock { $0.handler = newValue } }
    }

    /// Of `partitions` just assigned, those never assigned before.
    func firstAssignments(of partitions: [KafkaTopicPartition]) -> Set<KafkaTopicPartition> {
        state.withLock { state in
            defer { state.assignedBefore.formUnion(partitions) }
            return Set(partitions).subtracting(state.assignedBefore)
        }
    }

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
