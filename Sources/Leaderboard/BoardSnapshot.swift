/// Everything of the board that its input topics may no longer hold (they keep one
/// hour): the teams' standings and the compacted views. Users for the ghost check are
/// not in it: they come from re-reading what `new_users` still retains.
public struct BoardSnapshot: Sendable, Codable, Equatable {
    public var teams: [String: TeamState]
    public var unknownTeamActions: Int
    public var latestTeamStats: [String: LeaderboardState.KeyedValue]
    public var latestWatchlist: [String: LeaderboardState.KeyedValue]
    /// When the instructor last reset the session view (ms), if ever.
    public var sessionStartedAt: Int64?

    public init(
        teams: [String: TeamState], unknownTeamActions: Int, latestTeamStats: [String: LeaderboardState.KeyedValue],
        latestWatchlist: [String: LeaderboardState.KeyedValue], sessionStartedAt: Int64? = nil
    ) {
        self.sessionStartedAt = sessionStartedAt
        self.teams = teams
        self.unknownTeamActions = unknownTeamActions
        self.latestTeamStats = latestTeamStats
        self.latestWatchlist = latestWatchlist
    }

    enum CodingKeys: String, CodingKey {
        case teams
        case unknownTeamActions = "unknown_team_actions"
        case latestTeamStats = "latest_team_stats"
        case latestWatchlist = "latest_watchlist"
        case sessionStartedAt = "session_started_at"
    }
}

extension LeaderboardState {
    public func snapshot() -> BoardSnapshot {
        BoardSnapshot(teams: teams, unknownTeamActions: unknownTeamActions, latestTeamStats: latestTeamStats, latestWatchlist: latestWatchlist, sessionStartedAt: sessionStartedAt)
    }

    /// Continues from `snapshot`: teams the workshop no longer has are dropped, new ones
    /// start empty.
    public mutating func restore(_ snapshot: BoardSnapshot) {
        for name in teams.keys {
            if let state = snapshot.teams[name] { teams[name] = state }
        }
        unknownTeamActions = snapshot.unknownTeamActions
        latestTeamStats = snapshot.latestTeamStats
        latestWatchlist = snapshot.latestWatchlist
        sessionStartedAt = snapshot.sessionStartedAt
        heldByAnyTeam = Set(teams.values.flatMap(\.unlocked.keys))
    }
}
