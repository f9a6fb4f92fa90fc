import CoreMetrics
import Synchronization

/// What a ``KafkaProducer`` reports through swift-metrics: records the brokers
/// acknowledged and sends that failed, per topic and (for failures) error code. The
/// topics are the ones the server produces to and the codes a fixed set, so the label
/// sets stay few.
final class KafkaProducerMetrics: Sendable {
    private struct Key: Hashable {
        var topic: String
        var error: String?
    }

    private let factory: any MetricsFactory
    private let counters = Mutex<[Key: Counter]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Counts one send's outcome.
    func record(topic: String, _ result: Result<KafkaDeliveryReport, KafkaError>) {
        let key: Key = switch result {
        case .success: Key(topic: topic, error: nil)
        case .failure(let error): Key(topic: topic, error: error.code.name)
        }
        counter(for: key).increment()
    }

    private func counter(for key: Key) -> Counter {
        if let known = counters.withLock({ $0[key] }) { return known }
        // Made outside the lock: the factory has a lock of its own.
        let made = if let error = key.error {
            Counter(label: "kafka_produce_errors_total", dimensions: [("topic", key.topic), ("error", error)], factory: factory)
        } else {
            Counter(label: "kafka_produce_acks_total", dimensions: [("topic", key.topic)], factory: factory)
        }
        return counters.withLock { counters in
            if let raced = counters[key] { return raced }
            counters[key] = made
            return made
        }
    }
}
