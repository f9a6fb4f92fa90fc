internal import CRdKafka

/// What the group coordinator says about one consumer group: its state and members, with
/// the partitions each member was assigned.
public struct KafkaGroupDescription: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var memberID: String
        public var clientID: String
        public var host: String
        /// Empty while the group rebalances, or when the assignment is not the consumer
        /// protocol's (the group is not a consumer group).
        public var assignment: [KafkaTopicPartition]

        public init(memberID: String, clientID: String, host: String, assignment: [KafkaTopicPartition]) {
            self.memberID = memberID
            self.clientID = clientID
            self.host = host
            self.assignment = assignment
        }
    }

    public var group: String
    /// `Stable`, `PreparingRebalance`, `CompletingRebalance`, `Empty` or `Dead`.
    public var state: String
    /// `consumer` for consumer groups.
    public var protocolType: String
    public var members: [Member]

    public init(group: String, state: String, protocolType: String, members: [Member]) {
        self.group = group
        self.state = state
        self.protocolType = protocolType
        self.members = members
    }

    /// Decodes a member assignment of the consumer protocol (`ConsumerProtocolAssignment`
    /// v0–v3: int16 version, then an array of topics, each a string and an array of
    /// int32 partitions; user data after that is ignored). `nil` when the bytes are not
    /// that format, which other group protocols (Connect, Streams' own data) may use.
    public static func decodeConsumerAssignment(_ bytes: [UInt8]) -> [KafkaTopicPartition]? {
        var reader = BigEndianReader(bytes)
        guard let version = reader.int16(), version >= 0, let topicCount = reader.int32(), topicCount >= 0 else { return nil }
        var result: [KafkaTopicPartition] = []
        for _ in 0..<topicCount {
            guard let length = reader.int16(), length >= 0, let name = reader.bytes(Int(length)),
                  let partitionCount = reader.int32(), partitionCount >= 0
            else { return nil }
            let topic = String(decoding: name, as: UTF8.self)
            for _ in 0..<partitionCount {
                guard let partition = reader.int32() else { return nil }
                result.append(KafkaTopicPartition(topic: topic, partition: partition))
            }
        }
        return result
    }

    init(_ info: rd_kafka_group_info) {
        group = info.group.map { String(cString: $0) } ?? ""
        state = info.state.map { String(cString: $0) } ?? ""
        protocolType = info.protocol_type.map { String(cString: $0) } ?? ""
        let consumer = protocolType == "consumer"
        members = (0..<Int(max(0, info.member_cnt))).compactMap { index in
            guard let member = info.members?[index] else { return nil }
            var assignment: [KafkaTopicPartition] = []
            if consumer, let raw = member.member_assignment, member.member_assignment_size > 0 {
                let bytes = Array(UnsafeRawBufferPointer(start: raw, count: Int(member.member_assignment_size)))
                assignment = Self.decodeConsumerAssignment(bytes) ?? []
            }
            return Member(
                memberID: member.member_id.map { String(cString: $0) } ?? "",
                clientID: member.client_id.map { String(cString: $0) } ?? "",
                host: member.client_host.map { String(cString: $0) } ?? "",
                assignment: assignment
            )
        }
    }
}

/// Reads Kafka protocol integers and byte runs, refusing to read past the end.
private struct BigEndianReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func bytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, bytes.count - index >= count else { return nil }
        defer { index += count }
        return bytes[index..<index + count]
    }

    mutating func int16() -> Int16? {
        guard let two = bytes(2) else { return nil }
        return Int16(bitPattern: two.reduce(0) { $0 << 8 | UInt16($1) })
    }

    mutating func int32() -> Int32? {
        guard let four = bytes(4) else { return nil }
        return Int32(bitPattern: four.reduce(0) { $0 << 8 | UInt32($1) })
    }
}
