/// One instance of a team's app as its consumer group shows it: which client, from
/// which host, reading which `new_users` partitions. Lets the board show a team how its
/// partitions are spread (or that one instance has them all).
public struct GroupMember: Sendable, Codable, Equatable {
    public var clientID: String
    public var host: String
    /// The `new_users` partitions assigned to this member, ascending.
    public var partitions: [Int32]

    public init(clientID: String, host: String, partitions: [Int32]) {
        self.clientID = clientID
        self.host = host
        self.partitions = partitions.sorted()
    }

    enum CodingKeys: String, CodingKey {
        case host, partitions
        case clientID = "client_id"
    }
}
