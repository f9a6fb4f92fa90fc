import Dispatch
import HTTPTestSupport
import Kafka
import KafkaGateway
import Synchronization
import Testing

/// One consumer of a group through the gateway, and the partitions it was handed, as
/// the client itself sees them (its rebalance events).
final class Instance: Sendable {
    let consumer: KafkaConsumer
    let clientID: String
    private let held = Mutex<Set<KafkaTopicPartition>>([])

    init(_ fixture: GatewayFixture, group: String, clientID: String) throws {
        self.clientID = clientID
        var settings = KafkaConsumerConfiguration(mode: .group(id: group, topics: ["t"]))
        settings.sessionTimeout = .seconds(6)
        consumer = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: fixture.gateway.bootstrapAddress, clientID: clientID), consumer: settings, logger: quietLogger)
        consumer.run { [self] event in
            switch event {
            case .assigned(let partitions): held.withLock { $0.formUnion(partitions) }
            case .revoked(let partitions): held.withLock { $0.subtract(partitions) }
            default: break
            }
        }
    }

    var partitions: Set<KafkaTopicPartition> { held.withLock { $0 } }
}

@Suite("Consumer groups observed by the gateway, as the clients see them")
struct GroupObservationTests {
    /// Each client id's partitions in the gateway's listing of `group`.
    static func observed(_ fixture: GatewayFixture, group: String) -> [String: Set<KafkaTopicPartition>] {
        let members = fixture.gateway.groupListing().groups.first { $0.group == group }?.members ?? []
        return Dictionary(members.map { ($0.clientID, Set($0.assignment)) }) { first, _ in first }
    }

    static func seen(_ instances: [Instance]) -> [String: Set<KafkaTopicPartition>] {
        Dictionary(uniqueKeysWithValues: instances.map { ($0.clientID, $0.partitions) })
    }

    @Test("a group of 1, then 2, then 3 members: the gateway reports each member's partitions exactly as the members hold them; one that leaves is gone")
    func growAndShrink() throws {
        let fixture = try GatewayFixture(topics: [.init("t", partitions: 6)])
        var instances: [Instance] = []
        defer { for instance in instances { instance.consumer.close() } }
        for count in 1...3 {
            instances.append(try Instance(fixture, group: "team-1", clientID: "instance-\(count)"))
            let agreed = eventually(timeout: .seconds(30)) {
                let seen = Self.seen(instances)
                // Settled: every member holds partitions, together all six, once each.
                guard seen.values.allSatisfy({ !$0.isEmpty }), seen.values.reduce(0, { $0 + $1.count }) == 6 else { return false }
                return Self.observed(fixture, group: "team-1") == seen
            }
            #expect(agreed, "with \(count): seen \(Self.seen(instances)), observed \(Self.observed(fixture, group: "team-1"))")
            let group = fixture.gateway.groupListing().groups.first { $0.group == "team-1" }
            #expect(group?.members.count == count)
            #expect(group?.state == "Stable")
            #expect(group?.members.allSatisfy { $0.host.hasPrefix("/127.") } == true)
        }
        // A member that leaves (LeaveGroup on close) is gone at once; the rest rebalance.
        let leaving = instances.removeLast()
        leaving.consumer.close()
        #expect(eventually(timeout: .seconds(30)) {
            let observed = Self.observed(fixture, group: "team-1")
            return observed.keys.sorted() == ["instance-1", "instance-2"] && observed == Self.seen(instances)
                && observed.values.reduce(0, { $0 + $1.count }) == 6
        })
    }
}
