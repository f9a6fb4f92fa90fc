/// The body of `GET` and `POST /api/admin/simulator`.
public struct SimulatorStatus: Encodable, Sendable {
    public var teams: [SimulatedTeam]
    /// The most teams the workshop has.
    public var maximum: Int
    /// The size asked for while the change runs (null when none runs).
    public var resizingTo: Int?
    /// Why the last change failed, if it did.
    public var lastError: String?

    public init(teams: [SimulatedTeam], maximum: Int, resizingTo: Int? = nil, lastError: String? = nil) {
        self.teams = teams
        self.maximum = maximum
        self.resizingTo = resizingTo
        self.lastError = lastError
    }

    enum CodingKeys: String, CodingKey {
        case teams, maximum, resizingTo, lastError
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(teams, forKey: .teams)
        try container.encode(maximum, forKey: .maximum)
        try container.encode(resizingTo, forKey: .resizingTo)
        try container.encode(lastError, forKey: .lastError)
    }
}

/// One simulated team as the instructor sees it.
public struct SimulatedTeam: Encodable, Sendable {
    public var team: String
    /// How it behaves: careful, sloppy, unkeyed, careless.
    public var profile: String
    public var instances: Int
    public var processed: Int64
    public var flagged: Int64

    public init(team: String, profile: String, instances: Int, processed: Int64, flagged: Int64) {
        self.team = team
        self.profile = profile
        self.instances = instances
        self.processed = processed
        self.flagged = flagged
    }
}
