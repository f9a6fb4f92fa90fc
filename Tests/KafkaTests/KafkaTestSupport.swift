import Foundation
import Kafka
import Logging

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// Polls `condition` every 20 ms until it holds or `timeout` passes. Sleeps without
/// blocking a thread of the cooperative pool (2 threads on a 2-core machine), which
/// delivery-report continuations of other tests need.
func eventually(timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

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
