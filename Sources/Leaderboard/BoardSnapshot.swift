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

extension BoardSnapshot {
    /// The largest count a snapshot may hold: far above any class (a three-hour session
    /// produces ~10^5 records), far below where a sum could overflow.
    public static let maxCount = 1_000_000_000

    /// Why this snapshot cannot be the board's state, or nil. Anyone with a Kafka client
    /// can write to `leaderboard_state`: a count of Int.max made the next report overflow
    /// on every start, and a session start in the future froze the board.
    /// - Parameter now: the current time, ms since the epoch.
    public func validationError(now: Int64) -> String? {
        let range = 0...Self.maxCount
        guard range.contains(unknownTeamActions) else { return "unknown_team_actions out of range" }
        // Five minutes of clock skew between the instance that wrote it and this one.
        if let sessionStartedAt, !(0...(now + 300_000)).contains(sessionStartedAt) {
            return "session_started_at is not a past time"
        }
        for value in Array(latestTeamStats.values) + Array(latestWatchlist.values) where !(0...Self.maxCount).contains(value.records ?? 0) {
            return "keyed value \(value.key ?? ""): a count out of range"
        }
        for (name, team) in teams {
            let counts = [team.valid, team.streak, team.bestStreak, team.flagged.count, team.sent.count, team.redeliveries, team.actionsAtLastStats ?? 0]
                + team.mistakes.values
                + [team.stats, team.watchlist].flatMap { [$0.records, $0.correctKey, $0.missingKey, $0.wrongKey, $0.invalid, $0.refused, $0.decreases] }
            guard counts.allSatisfy(range.contains), team.mistakes.values.reduce(0, { $0 + $1 }) <= Self.maxCount else {
                return "team \(name): a count out of range"
            }
            guard team.streak <= team.valid, team.bestStreak <= team.valid else { return "team \(name): a streak longer than its valid actions" }
            if let lag = team.lag, lag < 0 { return "team \(name): negative lag" }
            // The board keeps a minute of samples five seconds apart.
            guard team.lastMistakes.values.allSatisfy({ $0.record.utf8.count <= TeamState.OffendingRecord.maxBytes * 3 }) else {
                return "team \(name): an offending record too long"
            }
            guard team.lagSamples.count <= 64, team.lagSamples.allSatisfy({ $0.lag >= 0 }) else { return "team \(name): lag samples out of range" }
        }
        return nil
    }
}
