internal import CRdKafka
import Foundation
import Synchronization

/// One librdkafka client: the `rd_kafka_t`, the context its C callbacks reach, and the
/// topic handles made from it, freed together exactly once.
///
/// Every call on the handle runs inside ``use(_:)``. ``close(_:)`` refuses new calls,
/// waits for the ones in progress, runs the caller's teardown (a flush, a consumer's
/// leave) and destroys the topics and the client; later calls are refused instead of
/// touching freed memory. A client nobody closed is freed when its last reference goes.
/// This is the one close pattern of the producer, the consumer, the admin client and the
/// embedded cluster.
final class RDKafkaClient: Sendable {
    private struct State {
        var closed = false
        /// Calls inside ``use(_:)`` right now.
        var active = 0
        var destroyed = false
        var topics: [String: SendableHandle] = [:]
    }

    let context: RDKafkaClientContext
    private let handle: SendableHandle
    private let state = Mutex(State())

    /// Creates a client of `type`, logging through `context`'s logger.
    /// - Parameter configure: last changes to the `rd_kafka_conf_t` (callbacks, events).
    /// - Throws: ``KafkaError/Code/configuration`` naming the key librdkafka rejected.
    init(
        type: rd_kafka_type_t, settings: [(String, String)], context: RDKafkaClientContext,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws(KafkaError) {
        self.context = context
        handle = SendableHandle(try RDKafkaConfig.makeClient(type: type, settings: settings, context: context, configure: configure))
    }

    deinit {
        // Not closed: nothing can be using it any more (this was the last reference).
        let state = state.withLock { $0 }
        guard !state.destroyed else { return }
        for topic in state.topics.values { rd_kafka_topic_destroy(topic.pointer) }
        rd_kafka_destroy(handle.pointer)
    }

    /// Runs `body` with the handle, or returns nil when the client is closing or closed.
    func use<R>(_ body: (OpaquePointer) throws(KafkaError) -> R) throws(KafkaError) -> R? {
        let entered = state.withLock { state in
            guard !state.closed else { return false }
            state.active += 1
            return true
        }
        guard entered else { return nil }
        defer { state.withLock { $0.active -= 1 } }
        return try body(handle.pointer)
    }

    /// The topic handle for `name`, made on first use and kept until the client is
    /// destroyed (`rd_kafka_topic_new` does no I/O). Only inside ``use(_:)``, so close
    /// cannot free the handles under a caller. Nil when librdkafka refuses the name.
    func topic(_ name: String) -> OpaquePointer? {
        state.withLock { state -> OpaquePointer? in
            if let topic = state.topics[name] { return topic.pointer }
            guard let topic = rd_kafka_topic_new(handle.pointer, name, nil) else { return nil }
            state.topics[name] = SendableHandle(topic)
            return topic
        }
    }

    /// Refuses new calls, waits until none is in progress, runs `teardown` with the
    /// handle, then destroys the topic handles and the client. Only the first call does
    /// all this (later ones return at once); returns whether this one did. Blocking.
    @discardableResult
    func close(_ teardown: (OpaquePointer) -> Void = { _ in }) -> Bool {
        let first = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return false }
        while state.withLock({ $0.active }) > 0 { usleep(1000) }
        teardown(handle.pointer)
        let topics = state.withLock { state in
            defer {
                state.topics = [:]
                state.destroyed = true
            }
            return Array(state.topics.values)
        }
        for topic in topics { rd_kafka_topic_destroy(topic.pointer) }
        rd_kafka_destroy(handle.pointer)
        return true
    }

    var isClosed: Bool { state.withLock { $0.closed } }
}
