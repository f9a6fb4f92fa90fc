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
    }

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
}

extension LeaderboardState {
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
            return row
        }
        var report = LeaderboardReport(teams: rows, knownUsers: knownUsers, unknownTeamActions: unknownTeamActions, groupInspection: groupInspection)
        report.sessionStartedAt = sessionStartedAt
        return report
    }
}
