public import NIOCore

/// The consumer-group requests the gateway reads as they pass: what a member asked.
public enum GroupRequest: Sendable, Equatable {
    case join(group: String, sessionTimeoutMs: Int32, memberID: String, protocolType: String)
    /// `assignments` is non-empty only from the group's leader.
    case sync(group: String, generation: Int32, memberID: String, assignments: [String: [UInt8]])
    case heartbeat(group: String, generation: Int32, memberID: String)
    case leave(group: String, memberID: String)
    /// An offset commit from a member (v1+ names it).
    case commit(group: String, memberID: String?)

    /// The consumer group a request names: its group id for the group APIs and
    /// OffsetFetch, the key of a FindCoordinator for a group. Nil for other requests.
    public static func groupID(apiKey: Int16, version: Int16, body: ByteBuffer) -> String? {
        var body = body
        switch apiKey {
        case APIKey.joinGroup, APIKey.syncGroup, APIKey.heartbeat, APIKey.leaveGroup, APIKey.offsetCommit, APIKey.offsetFetch:
            return version <= 7 ? body.readKafkaString() : nil
        case APIKey.findCoordinator where (0...2).contains(version):
            guard let key = body.readKafkaString() else { return nil }
            guard version >= 1 else { return key }
            return body.readInteger(as: Int8.self) == 0 ? key : nil  // 0: a group, 1: a transaction
        default:
            return nil
        }
    }

    /// Reads the group fields of a request body (after its header), or nil when it is not
    /// a group request of a version the gateway parses. Bodies were already checked
    /// against their layout.
    public static func read(apiKey: Int16, version: Int16, body: ByteBuffer) -> GroupRequest? {
        var body = body
        switch apiKey {
        case APIKey.joinGroup where (0...5).contains(version):
            guard let group = body.readKafkaString(), let session = body.readInteger(as: Int32.self) else { return nil }
            if version >= 1 { guard body.skipKafka(4) else { return nil } }
            guard let member = body.readKafkaString() else { return nil }
            if version >= 5 { guard body.readKafkaNullableString() != nil else { return nil } }
            guard let type = body.readKafkaString() else { return nil }
            return .join(group: group, sessionTimeoutMs: session, memberID: member, protocolType: type)
        case APIKey.syncGroup where (0...3).contains(version):
            guard let group = body.readKafkaString(), let generation = body.readInteger(as: Int32.self),
                  let member = body.readKafkaString()
            else { return nil }
            if version >= 3 { guard body.readKafkaNullableString() != nil else { return nil } }
            guard let count = body.readKafkaArrayCount(minimumElementSize: 6) else { return nil }
            var assignments: [String: [UInt8]] = [:]
            for _ in 0..<count {
                guard let id = body.readKafkaString(), let bytes = body.readKafkaBytes() else { return nil }
                assignments[id] = bytes.map { Array($0.readableBytesView) } ?? []
            }
            return .sync(group: group, generation: generation, memberID: member, assignments: assignments)
        case APIKey.heartbeat where (0...3).contains(version):
            guard let group = body.readKafkaString(), let generation = body.readInteger(as: Int32.self),
                  let member = body.readKafkaString()
            else { return nil }
            return .heartbeat(group: group, generation: generation, memberID: member)
        case APIKey.leaveGroup where (0...2).contains(version):
            guard let group = body.readKafkaString(), let member = body.readKafkaString() else { return nil }
            return .leave(group: group, memberID: member)
        case APIKey.offsetCommit where (0...7).contains(version):
            guard let group = body.readKafkaString() else { return nil }
            guard version >= 1 else { return .commit(group: group, memberID: nil) }
            guard body.skipKafka(4), let member = body.readKafkaString() else { return nil }
            return .commit(group: group, memberID: member)
        default:
            return nil
        }
    }
}

/// What the coordinator answered a group request: the parts the gateway keeps.
public enum GroupResponse: Sendable, Equatable {
    /// `members` is non-empty only in the leader's answer: the new generation's members.
    case join(error: Int16, generation: Int32, leader: String, memberID: String, members: [String])
    case sync(error: Int16, assignment: [UInt8])
    case heartbeat(error: Int16)
    case leave(error: Int16)

    /// Reads a response (without its size) to `apiKey` at `version`; nil when it is not
    /// one the gateway parses or the bytes do not fit.
    public static func read(apiKey: Int16, version: Int16, frame: ByteBuffer) -> GroupResponse? {
        var frame = frame
        guard frame.skipKafka(4) else { return nil }  // correlation id
        switch apiKey {
        case APIKey.joinGroup where (0...5).contains(version):
            if version >= 2 { guard frame.skipKafka(4) else { return nil } }
            guard let error = frame.readInteger(as: Int16.self), let generation = frame.readInteger(as: Int32.self),
                  frame.readKafkaString() != nil, let leader = frame.readKafkaString(), let member = frame.readKafkaString(),
                  let count = frame.readKafkaArrayCount(minimumElementSize: 6)
            else { return nil }
            var members: [String] = []
            for _ in 0..<count {
                guard let id = frame.readKafkaString() else { return nil }
                if version >= 5 { guard frame.readKafkaNullableString() != nil else { return nil } }
                guard frame.readKafkaBytes() != nil else { return nil }
                members.append(id)
            }
            return .join(error: error, generation: generation, leader: leader, memberID: member, members: members)
        case APIKey.syncGroup where (0...3).contains(version):
            if version >= 1 { guard frame.skipKafka(4) else { return nil } }
            guard let error = frame.readInteger(as: Int16.self), let bytes = frame.readKafkaBytes() else { return nil }
            return .sync(error: error, assignment: bytes.map { Array($0.readableBytesView) } ?? [])
        case APIKey.heartbeat where (0...3).contains(version):
            if version >= 1 { guard frame.skipKafka(4) else { return nil } }
            return frame.readInteger(as: Int16.self).map { .heartbeat(error: $0) }
        case APIKey.leaveGroup where (0...2).contains(version):
            if version >= 1 { guard frame.skipKafka(4) else { return nil } }
            return frame.readInteger(as: Int16.self).map { .leave(error: $0) }
        default:
            return nil
        }
    }
}
