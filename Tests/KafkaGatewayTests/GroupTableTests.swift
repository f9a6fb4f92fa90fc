import Kafka
import NIOCore
@testable import KafkaGateway
import Testing

@Suite("The group table: what the gateway concludes from the requests passing")
struct GroupTableTests {
    static let assignment: [UInt8] = [0, 0, 0, 0, 0, 1, 0, 9] + Array("new_users".utf8) + [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff]

    static func joined(_ table: inout GroupTable, member: String, client: String, generation: Int32, session: Int32 = 6000, members: [String] = [], at now: Int64) {
        table.apply(.join(group: "team-1", sessionTimeoutMs: session, memberID: "", protocolType: "consumer"),
                    .join(error: 0, generation: generation, leader: members.first ?? member, memberID: member, members: members),
                    clientID: client, host: "/10.0.0.1", now: now)
    }

    static func synced(_ table: inout GroupTable, member: String, generation: Int32, at now: Int64) {
        table.apply(.sync(group: "team-1", generation: generation, memberID: member, assignments: [:]), .sync(error: 0, assignment: assignment),
                    clientID: "c", host: "/10.0.0.1", now: now)
    }

    @Test("a member that dies (no heartbeat) is gone once its session timed out, not before")
    func dies() {
        var table = GroupTable()
        Self.joined(&table, member: "m1", client: "app", generation: 1, at: 0)
        Self.synced(&table, member: "m1", generation: 1, at: 10)
        #expect(table.listing.groups.first?.members.first?.assignment == [KafkaTopicPartition(topic: "new_users", partition: 0), KafkaTopicPartition(topic: "new_users", partition: 3)])
        #expect(table.listing.groups.first?.state == "Stable")
        table.apply(.heartbeat(group: "team-1", generation: 1, memberID: "m1"), .heartbeat(error: 0), clientID: "app", host: "/10.0.0.1", now: 3000)
        table.expire(now: 9000)
        #expect(table.listing.groups.first?.members.count == 1)
        table.expire(now: 9001)
        #expect(table.listing.groups.isEmpty)
    }

    @Test("the leader's join answer names the new generation: members not in it are dropped")
    func newGeneration() {
        var table = GroupTable()
        Self.joined(&table, member: "m1", client: "a", generation: 1, at: 0)
        Self.joined(&table, member: "m2", client: "b", generation: 1, at: 0)
        Self.joined(&table, member: "m2", client: "b", generation: 2, members: ["m2"], at: 100)
        #expect(table.listing.groups.first?.members.map(\.memberID) == ["m2"])
        #expect(table.listing.groups.first?.state == "CompletingRebalance")
        Self.synced(&table, member: "m2", generation: 2, at: 200)
        #expect(table.listing.groups.first?.state == "Stable")
    }

    @Test("LeaveGroup and an UNKNOWN_MEMBER_ID heartbeat remove the member at once")
    func leaves() {
        var table = GroupTable()
        Self.joined(&table, member: "m1", client: "a", generation: 1, at: 0)
        Self.joined(&table, member: "m2", client: "b", generation: 1, at: 0)
        table.apply(.leave(group: "team-1", memberID: "m1"), .leave(error: 0), clientID: "a", host: "/10.0.0.1", now: 5)
        #expect(table.listing.groups.first?.members.map(\.memberID) == ["m2"])
        table.apply(.heartbeat(group: "team-1", generation: 1, memberID: "m2"), .heartbeat(error: 25), clientID: "b", host: "/10.0.0.1", now: 6)
        #expect(table.listing.groups.isEmpty)
    }

    @Test("a session timeout beyond Kafka's 30-minute maximum is held to it")
    func sessionCap() {
        var table = GroupTable()
        Self.joined(&table, member: "m1", client: "a", generation: 1, session: .max, at: 0)
        table.expire(now: 1_800_000)
        #expect(table.listing.groups.count == 1)
        table.expire(now: 1_800_001)
        #expect(table.listing.groups.isEmpty)
    }

    @Test("a refused join (MEMBER_ID_REQUIRED) adds no member")
    func refusedJoin() {
        var table = GroupTable()
        table.apply(.join(group: "team-1", sessionTimeoutMs: 6000, memberID: "", protocolType: "consumer"),
                    .join(error: 79, generation: -1, leader: "", memberID: "m-new", members: []), clientID: "a", host: "/10.0.0.1", now: 0)
        #expect(table.listing.groups.isEmpty)
    }
}

@Suite("The follower's SyncGroup the embedded coordinator refuses, answered as Apache Kafka does")
struct SyncRepairTests {
    static func refusal(version: Int16) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(91))
        if version >= 1 { buffer.writeInteger(Int32(0)) }
        buffer.writeInteger(Int16(42))
        buffer.writeInteger(Int32(0))
        return buffer
    }

    @Test("with the leader's assignment seen: success and that member's bytes; without: REBALANCE_IN_PROGRESS", arguments: [Int16(0), 1, 3])
    func repaired(version: Int16) {
        var table = GroupTable()
        table.apply(.join(group: "team-1", sessionTimeoutMs: 6000, memberID: "", protocolType: "consumer"),
                    .join(error: 0, generation: 4, leader: "a", memberID: "b", members: []), clientID: "y", host: "/1.2.3.5", now: 0)
        table.apply(.join(group: "team-1", sessionTimeoutMs: 6000, memberID: "", protocolType: "consumer"),
                    .join(error: 0, generation: 4, leader: "a", memberID: "a", members: ["a", "b"]), clientID: "x", host: "/1.2.3.4", now: 0)
        // Only the leader's assignments count: a member planting its own is ignored.
        table.leaderAssigned(group: "team-1", generation: 4, leader: "b", assignments: ["b": [9, 9]])
        #expect(table.assignment(group: "team-1", generation: 4, member: "b") == nil)
        table.leaderAssigned(group: "team-1", generation: 4, leader: "a", assignments: ["a": [1], "b": GroupTableTests.assignment])
        #expect(table.assignment(group: "team-1", generation: 3, member: "b") == nil)
        let bytes = table.assignment(group: "team-1", generation: 4, member: "b")
        #expect(bytes == GroupTableTests.assignment)
        let fixed = SyncRepair.response(to: Self.refusal(version: version), version: version, assignment: bytes)
        #expect(GroupResponse.read(apiKey: 14, version: version, frame: fixed) == .sync(error: 0, assignment: GroupTableTests.assignment))
        #expect(fixed.getInteger(at: 0, as: Int32.self) == 91)
        let unknown = SyncRepair.response(to: Self.refusal(version: version), version: version, assignment: nil)
        #expect(GroupResponse.read(apiKey: 14, version: version, frame: unknown) == .sync(error: 27, assignment: []))
    }
}
