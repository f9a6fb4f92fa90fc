/// The board as the API and the `leaderboard` channel show it.
public struct LeaderboardReport: Sendable, Codable, Equatable {
    public struct Row: Sendable, Codable, Equatable {
        public var rank: Int
        public var team: String
        public var points: Int
        public var steps: Int
        public var valid: Int
        public var mistakes: Int
        public var streak: Int
        public var missed: Int
        /// Duplicates sent around a change of the team's group (not mistakes).
        public var redeliveries: Int
        /// valid ÷ (valid + false positives and other mistakes on real users), nil before any action.
        public var precision: Double?
        /// valid ÷ (valid + missed), nil before anything was due.
        public var recall: Double?
        public var connected: Bool
        public var members: Int?
        /// Each member's `new_users` partitions, where the broker describes groups.
        public var memberPartitions: [[Int32]]?
        public var lag: Int64?
        public var achievements: [Badge]
        /// Points the workshop's penalties took (0 unless its file sets some).
        public var penalty = 0
        /// What the team's records teach it right now (``TeachingSignal``).
        public var signals: [TeachingSignal] = []
        /// Mistakes by kind (`duplicate`: 3, …), for the board's mistakes column.
        public var mistakesByKind: [Mistake: Int] = [:]
        /// The team's latest record (ms), for "idle 4 min".
        public var lastActivityAt: Int64?
        /// The team's latest `team_stats`, for the Live stats panel.
        public var stats: LatestStats?
        /// Companies the team has on the watchlist (flag_count at the threshold or more in
        /// its latest record per company), at most ``maxWatchlisted``.
        public var watchlisted: [String] = []
    }

    /// A team's latest team_stats as the board read it.
    public struct LatestStats: Sendable, Codable, Equatable {
        public var processed: Int64?
        public var flagged: Int64?
        /// How its latest attempt was keyed: `missing` also when the gateway refused it.
        public var key: KeyCheck?
        public var records: Int
    }

    /// How one achievement looks, for the board's fixed columns and its legend.
    public struct CatalogEntry: Sendable, Codable, Equatable {
        public var id: Achievement
        public var emoji: String
        public var title: String
        public var points: Int
        public var kind: Achievement.Kind
    }

    public static let maxWatchlisted = 50

    public struct Badge: Sendable, Codable, Equatable {
        public var id: Achievement
        public var emoji: String
        public var title: String
        public var points: Int
        public var kind: Achievement.Kind
        public var at: Int64
    }

    public var teams: [Row]
    public var knownUsers: Int
    public var unknownTeamActions: Int
    /// Where the broker cannot describe consumer groups (the embedded cluster cannot),
    /// "connected" comes from committed offsets and members are unknown.
    public var groupInspection: String
    /// Whether members and partitions come from the group coordinator right now.
    public var groupsDescribed = false
    /// When the board was restored from its snapshot in `leaderboard_state` (the
    /// snapshot's time, ms), or nil when it was rebuilt from the input topics alone.
    public var restoredFromSnapshotAt: Int64?
    /// When the instructor last reset the session view (ms), if ever.
    public var sessionStartedAt: Int64?
    /// Which final step the class does: the board's step columns follow it.
    public var finalStep: Workshop.FinalStep = .teamStats
    /// The step achievements of this workshop in the tutorial's order: the board's fixed columns.
    public var stepColumns: [Achievement] = []
    /// Every achievement with its emoji, title and points, for the legend.
    public var catalog: [CatalogEntry] = []
    /// The server's clock when the report was made (ms): "idle 4 min" and the session
    /// time are measured against it, not against a projector laptop's clock.
    public var serverTime: Int64 = 0
    /// Team records (actions, team_stats, watchlist) the board read per second, over the
    /// last 5 s.
    public var recordsPerSecond: Double = 0
}

extension LeaderboardState {
    /// Companies on the watchlist per team, sorted, at most ``LeaderboardReport/maxWatchlisted`` each.
    var watchlisted: [String: [String]] {
        let threshold = Int64(workshop.thresholds.watchlistFlags)
        var companies: [String: [String]] = [:]
        for value in latestWatchlist.values where value.keyCheck == .correct && (value.numbers["flag_count"] ?? 0) >= threshold {
            if let company = value.company { companies[value.team, default: []].append(company) }
        }
        return companies.mapValues { Array($0.sorted().prefix(LeaderboardReport.maxWatchlisted)) }
    }

    /// The ranked board at `now` (ms).
    public func report(now: Int64, groupInspection: String) -> LeaderboardReport {
        let rows = ranking().enumerated().map { index, name -> LeaderboardReport.Row in
            let state = teams[name] ?? TeamState()
            let missed = missed(team: name, now: now)
            let wrong = (state.mistakes[.falsePositive] ?? 0) + (state.mistakes[.wrongTypeOrReason] ?? 0) + (state.mistakes[.ghostUser] ?? 0)
            let badges = state.unlocked.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map { achievement, at in
                let info = workshop.achievements[achievement] ?? AchievementInfo(emoji: "", title: achievement.rawValue, points: 0)
                return LeaderboardReport.Badge(id: achievement, emoji: info.emoji, title: info.title, points: info.points, kind: achievement.kind, at: at)
            }
            var row = LeaderboardReport.Row(
                rank: index + 1, team: name, points: points(name),
                steps: state.unlocked.keys.filter { $0.kind == .step }.count,
                valid: state.valid, mistakes: state.mistakeCount, streak: state.streak, missed: missed, redeliveries: state.redeliveries,
                precision: state.valid + wrong > 0 ? Double(state.valid) / Double(state.valid + wrong) : nil,
                recall: state.valid + missed > 0 ? Double(state.valid) / Double(state.valid + missed) : nil,
                connected: state.connected, members: state.members, memberPartitions: state.groupMembers?.map(\.partitions),
                lag: state.lag, achievements: badges
            )
            row.penalty = penalty(name)
            row.signals = signals(team: name, now: now)
            row.mistakesByKind = state.mistakes
            row.lastActivityAt = state.lastActivityAt
            if state.stats.records > 0 || state.stats.refused > 0 {
                row.stats = .init(processed: state.lastStats?.processed, flagged: state.lastStats?.flagged, key: state.stats.lastKey, records: state.stats.records)
            }
            row.watchlisted = watchlisted[name] ?? []
            return row
        }
        var report = LeaderboardReport(teams: rows, knownUsers: knownUsers, unknownTeamActions: unknownTeamActions, groupInspection: groupInspection)
        report.sessionStartedAt = sessionStartedAt
        report.finalStep = workshop.finalStep
        report.stepColumns = Achievement.steps(finalStep: workshop.finalStep)
        report.catalog = Achievement.allCases.map { id in
            let info = workshop.achievements[id] ?? AchievementInfo(emoji: "", title: id.rawValue, points: 0)
            return LeaderboardReport.CatalogEntry(id: id, emoji: info.emoji, title: info.title, points: info.points, kind: id.kind)
        }
        report.serverTime = now
        return report
    }
}
