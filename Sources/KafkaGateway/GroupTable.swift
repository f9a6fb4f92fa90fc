public import Kafka

/// Every consumer group as the gateway sees it pass: members (id, `client.id`, address),
/// the generation, and the partitions each member was handed, the way the coordinator
/// would describe them, for a cluster that cannot describe its groups.
///
/// A plain value: the observer applies each request with its answer and the time, and
/// members whose session timed out are dropped, as the coordinator drops them.
public struct GroupTable: Sendable, Equatable {
    struct Member: Sendable, Equatable {
        var clientID: String
        var host: String
        var sessionTimeoutMs: Int64
        var lastSeen: Int64
        var generation: Int32
        /// The partitions of the member's current generation, once its SyncGroup answered.
        var assignment: [KafkaTopicPartition]?
    }

    struct Group: Sendable, Equatable {
        var protocolType = "consumer"
        var generation: Int32 = 0
        var leader = ""
        var members: [String: Member] = [:]
        /// A member joined, left, or was told to rejoin, and the new generation has not
        /// synced yet.
        var rebalancing = false
        /// The leader's assignments of its last SyncGroup, as sent.
        var leaderAssignments: LeaderAssignments?
    }

    struct LeaderAssignments: Sendable, Equatable {
        var generation: Int32
        /// Bytes by member.
        var bytes: [String: [UInt8]]
    }

    private(set) var groups: [String: Group] = [:]

    /// The longest session a member is kept without a sign of life: Apache Kafka's
    /// `group.max.session.timeout.ms` default (a coordinator refuses longer ones; the
    /// embedded cluster does not, and a client's setting must not keep a dead member on
    /// the board for days).
    static let maxSessionTimeoutMs: Int64 = 1_800_000

    public init() {}

    /// A group request, its answer, who sent it (`client.id`, address) and when (ms).
    public mutating func apply(_ request: GroupRequest, _ response: GroupResponse?, clientID: String, host: String, now: Int64) {
        switch (request, response) {
        case (.join(let name, let session, _, let type), .join(let error, let generation, let leader, let memberID, let members)?):
            guard error == 0, !memberID.isEmpty else {
                // MEMBER_ID_REQUIRED (79) and other refusals: the client joins again.
                if groups[name] != nil { groups[name]?.rebalancing = true }
                return
            }
            var group = groups[name] ?? Group()
            group.protocolType = type
            if generation > group.generation {
                group.generation = generation
            }
            group.leader = leader
            group.rebalancing = true
            var member = group.members[memberID] ?? Member(clientID: clientID, host: host, sessionTimeoutMs: 0, lastSeen: now, generation: generation)
            member.clientID = clientID
            member.host = host
            member.sessionTimeoutMs = min(Int64(max(0, session)), Self.maxSessionTimeoutMs)
            member.lastSeen = now
            member.generation = generation
            member.assignment = nil
            group.members[memberID] = member
            if !members.isEmpty {
                // The leader's answer lists the new generation: the others are gone.
                let current = Set(members)
                group.members = group.members.filter { current.contains($0.key) }
            }
            groups[name] = group
        case (.join(let name, _, _, _), nil):
            if groups[name] != nil { groups[name]?.rebalancing = true }
        case (.sync(let name, let generation, let memberID, let assignments), let answer):
            guard var group = groups[name] else { return }
            // The leader's request carries everyone's partitions.
            if memberID == group.leader, generation == group.generation {
                for (id, bytes) in assignments where group.members[id]?.generation == generation {
                    group.members[id]?.assignment = Self.partitions(bytes)
                }
            }
            if case .sync(let error, let bytes)? = answer, error == 0, group.members[memberID] != nil {
                group.members[memberID]?.assignment = Self.partitions(bytes)
                group.members[memberID]?.generation = generation
                group.members[memberID]?.lastSeen = now
            }
            group.rebalancing = !group.members.values.allSatisfy { $0.generation == group.generation && $0.assignment != nil }
            groups[name] = group
        case (.heartbeat(let name, _, let memberID), let answer):
            guard groups[name]?.members[memberID] != nil else { return }
            switch answer {
            case .heartbeat(let error)? where error == 25:  // UNKNOWN_MEMBER_ID: it is no member
                groups[name]?.members[memberID] = nil
            case .heartbeat(let error)? where error == 27:  // REBALANCE_IN_PROGRESS
                groups[name]?.members[memberID]?.lastSeen = now
                groups[name]?.rebalancing = true
            default:
                groups[name]?.members[memberID]?.lastSeen = now
            }
        case (.leave(let name, let memberID), _):
            guard var group = groups[name], group.members.removeValue(forKey: memberID) != nil else { return }
            group.rebalancing = !group.members.isEmpty
            groups[name] = group
        case (.commit(let name, let memberID?), _):
            groups[name]?.members[memberID]?.lastSeen = now
        default:
            break
        }
        dropEmpty()
    }

    /// The leader's SyncGroup request, seen as it passes (before any answer): each
    /// member's assignment of `generation`, as the coordinator will hand it out. Kept only
    /// from the group's leader of that generation, for its members, each at most
    /// ``maxAssignmentBytes``: a student cannot plant another group's assignments.
    public mutating func leaderAssigned(group name: String, generation: Int32, leader: String, assignments: [String: [UInt8]]) {
        guard var group = groups[name], group.leader == leader, group.generation == generation,
              group.members[leader]?.generation == generation
        else { return }
        let kept = assignments.filter { group.members[$0.key] != nil && $0.value.count <= Self.maxAssignmentBytes }
        guard !kept.isEmpty else { return }
        group.leaderAssignments = LeaderAssignments(generation: generation, bytes: kept)
        groups[name] = group
    }

    /// The largest member assignment kept (a consumer protocol assignment of 64 KiB names
    /// some 16,000 partitions).
    static let maxAssignmentBytes = 64 * 1024

    /// The bytes the leader assigned `member` for `generation`, if seen.
    public func assignment(group name: String, generation: Int32, member: String) -> [UInt8]? {
        guard let assigned = groups[name]?.leaderAssignments, assigned.generation == generation else { return nil }
        return assigned.bytes[member]
    }

    /// Drops members whose session timed out (no heartbeat, join, sync or commit for
    /// longer than their session timeout).
    public mutating func expire(now: Int64) {
        for (name, group) in groups {
            let alive = group.members.filter { now - $0.value.lastSeen <= max($0.value.sessionTimeoutMs, 1000) }
            if alive.count != group.members.count {
                groups[name]?.members = alive
                groups[name]?.rebalancing = !alive.isEmpty
            }
        }
        dropEmpty()
    }

    private mutating func dropEmpty() {
        groups = groups.filter { !$0.value.members.isEmpty }
    }

    /// The groups as a coordinator would describe them. Complete: every group of the
    /// class passes through the gateway, so one absent has no members.
    public var listing: KafkaGroupListing {
        let described = groups.sorted { $0.key < $1.key }.map { name, group in
            KafkaGroupDescription(
                group: name,
                state: group.rebalancing ? "CompletingRebalance" : "Stable",
                protocolType: group.protocolType,
                members: group.members.sorted { $0.key < $1.key }.map { id, member in
                    KafkaGroupDescription.Member(memberID: id, clientID: member.clientID, host: member.host, assignment: member.assignment ?? [])
                }
            )
        }
        return KafkaGroupListing(groups: described, complete: true)
    }

    static func partitions(_ bytes: [UInt8]) -> [KafkaTopicPartition]? {
        guard bytes.count <= maxAssignmentBytes else { return nil }
        return bytes.isEmpty ? [] : KafkaGroupDescription.decodeConsumerAssignment(bytes)
    }
}
