import Foundation
import Kafka
import Logging

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }


/// Collects a consumer's events, for assertions from the test's thread.
final class EventCollector: Sendable {
    private let lock = NSLock()
    nonisolated(unsafe) private var stored: [KafkaConsumerEvent] = []

    func append(_ event: KafkaConsumerEvent) {
        lock.withLock { stored.append(event) }
    }

    var events: [KafkaConsumerEvent] { lock.withLock { stored } }

    var records: [KafkaRecord] {
        events.compactMap { if case .record(let record) = $0 { record } else { nil } }
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
