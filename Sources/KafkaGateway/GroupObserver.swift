public import Kafka
import Synchronization

/// The gateway's ``GroupTable`` behind one lock: every event loop reports what passed,
/// the board asks for the listing every second.
final class GroupObserver: Sendable {
    private let table = Mutex(GroupTable())
    private let clock: @Sendable () -> Int64

    init(clock: @escaping @Sendable () -> Int64) {
        self.clock = clock
    }

    func apply(_ request: GroupRequest, _ response: GroupResponse?, clientID: String, host: String) {
        let now = clock()
        table.withLock { $0.apply(request, response, clientID: clientID, host: host, now: now) }
    }

    func listing() -> KafkaGroupListing {
        let now = clock()
        let table = table.withLock { table in
            table.expire(now: now)
            return table
        }
        return table.listing
    }
}
