import KafkaGateway
import Synchronization

/// Records the Kafka gateway refused for a missing key, on their way to the board. The
/// gateway tells of them on its event loop, which must not wait for the board's lock,
/// and it starts before the board exists: they wait here, bounded, and the board's
/// publisher takes them four times a second.
final class RefusedRecords: Sendable {
    /// Refusals kept waiting; past this (a flood of keyless records) more are dropped and
    /// counted, the board has enough to show the lesson.
    static let capacity = 10_000

    private let pending = Mutex<(records: [RefusedRecord], dropped: Int)>(([], 0))

    func add(_ record: RefusedRecord) {
        pending.withLock { pending in
            guard pending.records.count < Self.capacity else {
                pending.dropped += 1
                return
            }
            pending.records.append(record)
        }
    }

    /// The refusals waiting, oldest first, and how many were dropped since the last take.
    func take() -> (records: [RefusedRecord], dropped: Int) {
        pending.withLock { pending in
            defer { pending = ([], 0) }
            return pending
        }
    }
}
