@testable import App
import HTTPTestSupport
import Kafka
import Leaderboard
import Testing

/// The board's view of the teams' consumer groups. Committed offsets and watermarks
/// come from a real embedded cluster; the group *description* comes from a stand-in,
/// because the embedded cluster (librdkafka's mock) cannot list or describe groups —
/// the one part of this path this machine cannot run. The first test shows that gap
/// with the real admin client.
@Suite("Consumer groups on the board")
struct GroupObservationTests {
    /// Answers as a broker that describes groups would, or fails as told.
    struct DescribingBroker: GroupDescriber {
        var groups: [KafkaGroupDescription]
        var failure: KafkaError?
        var complete = true

        func describeGroups(timeout: Duration) throws(KafkaError) -> KafkaGroupListing {
            if let failure { throw failure }
            return KafkaGroupListing(groups: groups, complete: complete)
        }
    }

    static func assignment(_ partitions: [Int32], topic: String = "new_users") -> [KafkaTopicPartition] {
        partitions.map { KafkaTopicPartition(topic: topic, partition: $0) }
    }

    func setUp() throws -> (EmbeddedKafka, KafkaAdmin, LeaderboardService) {
        let workshop = Workshop.default
        let cluster = try EmbeddedKafka(topics: LeaderboardService.topics(of: workshop), logger: quietLogger)
        let admin = try KafkaAdmin(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        let service = LeaderboardService(workshop: workshop, logger: quietLogger)
        return (cluster, admin, service)
    }

    @Test("against the embedded cluster the board says groups cannot be described, and members stay unknown")
    func embeddedCannotDescribe() throws {
        let (cluster, admin, service) = try setUp()
        defer { admin.close(); cluster.stop() }
        service.observeGroups(admin: admin)
        let report = service.report()
        #expect(report.groupsDescribed == false)
        #expect(report.groupInspection.hasPrefix("not supported by this broker"))
        #expect(report.teams.allSatisfy { $0.members == nil })
    }

    @Test("described groups give members, state and partitions: Scaled and Partition Explorer for three instances")
    func describedGroups() throws {
        let (cluster, admin, service) = try setUp()
        defer { admin.close(); cluster.stop() }
        let team3 = KafkaGroupDescription(group: "team-3", state: "Stable", protocolType: "consumer", members: [
            .init(memberID: "a", clientID: "app-1", host: "/10.0.0.1", assignment: Self.assignment([0, 1]) + Self.assignment([0], topic: "other")),
            .init(memberID: "b", clientID: "app-2", host: "/10.0.0.2", assignment: Self.assignment([3, 2])),
            .init(memberID: "c", clientID: "app-3", host: "/10.0.0.3", assignment: Self.assignment([4])),
        ])
        let team5 = KafkaGroupDescription(group: "team-5", state: "PreparingRebalance", protocolType: "consumer", members: [
            .init(memberID: "d", clientID: "solo", host: "/10.0.0.4", assignment: []),
        ])
        service.observeGroups(admin: admin, describer: DescribingBroker(groups: [team3, team5]))
        let report = service.report()
        #expect(report.groupsDescribed)
        let rows = Dictionary(uniqueKeysWithValues: report.teams.map { ($0.team, $0) })
        #expect(rows["team-3"]?.members == 3)
        #expect(rows["team-3"]?.memberPartitions == [[0, 1], [2, 3], [4]])
        #expect(rows["team-3"]?.connected == true)
        #expect(Set(rows["team-3"]?.achievements.map(\.id) ?? []) == [.connected, .scaled, .partitionExplorer, .firstBlood])
        // One member, rebalancing, no commits: not connected, nothing earned.
        #expect(rows["team-5"]?.members == 1)
        #expect(rows["team-5"]?.connected == false)
        #expect(rows["team-5"]?.achievements.isEmpty == true)
        // A team whose group the coordinator does not list has no members.
        #expect(rows["team-7"]?.members == 0)
        let state = try #require(service.team(named: "team-3"))
        #expect(state.groupState == "Stable")
        #expect(state.groupMembers?.map(\.partitions) == [[0, 1], [2, 3], [4]])
        #expect(state.groupMembers?.map(\.clientID) == ["app-1", "app-2", "app-3"])

        // A partial listing (a broker did not answer): a team missing from it is unknown,
        // not empty; the teams it did describe are.
        service.observeGroups(admin: admin, describer: DescribingBroker(groups: [team5], complete: false))
        let partial = Dictionary(uniqueKeysWithValues: service.report().teams.map { ($0.team, $0) })
        #expect(partial["team-3"]?.members == nil)
        #expect(partial["team-7"]?.members == nil)
        #expect(partial["team-5"]?.members == 1)

        // A later failed look says so and leaves the members unknown, the unlocks kept.
        service.observeGroups(admin: admin, describer: DescribingBroker(groups: [], failure: KafkaError(.timedOut, "no answer")))
        let after = service.report()
        #expect(after.groupsDescribed == false)
        #expect(after.groupInspection.contains("no answer"))
        #expect(after.teams.first { $0.team == "team-3" }?.members == nil)
        #expect(after.teams.first { $0.team == "team-3" }?.achievements.contains { $0.id == .scaled } == true)
    }
}
