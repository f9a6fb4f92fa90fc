import Kafka
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

    func leaderAssigned(group: String, generation: Int32, leader: String, assignments: [String: [UInt8]]) {
        table.withLock { $0.leaderAssigned(group: group, generation: generation, leader: leader, assignments: assignments) }
    }

    func assignment(group: String, generation: Int32, member: String) -> [UInt8]? {
        table.withLock { $0.assignment(group: group, generation: generation, member: member) }
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
