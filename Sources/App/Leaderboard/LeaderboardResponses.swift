import FastJSON
import HTTPServer
import Leaderboard
import Timeline

/// The body of `GET /api/teams/{team}`.
struct TeamDetail: Encodable, Sendable {
    var row: LeaderboardReport.Row
    /// The rule in words, written from the rule itself (``Condition/explanation``), and
    /// the type and reason its actions must carry.
    var rule: String
    var type: String
    var reason: String
    var mistakes: [String: Int]
    /// The latest record behind each kind of mistake (cut to 300 bytes), shown literally.
    var lastMistakes: [String: TeamState.OffendingRecord]
    var teamStats: TeamState.KeyedRecords
    var lastTeamStats: TeamState.TeamStats?
    /// The board's count of the team's valid actions, beside the `flagged` its last
    /// team_stats reported: a team counting its mistakes too reports more.
    var validActions: Int
    var watchlist: TeamState.KeyedRecords
    /// The group's state and each member's `new_users` partitions, where the broker
    /// describes groups.
    var groupState: String?
    var members: [GroupMember]?
    /// The team's clients connected through the Kafka gateway (embedded cluster only),
    /// before they produce anything.
    var clients: [ClientsReport.Client]?

    enum CodingKeys: String, CodingKey {
        case row = "standing"
        case rule, type, reason, mistakes, lastMistakes, watchlist, members, groupState, teamStats, lastTeamStats, validActions, clients
    }

    init(row: LeaderboardReport.Row, rule: String, type: String, reason: String, state: TeamState) {
        self.row = row
        self.rule = rule
        self.type = type
        self.reason = reason
        mistakes = Dictionary(uniqueKeysWithValues: state.mistakes.map { ($0.key.rawValue, $0.value) })
        lastMistakes = Dictionary(uniqueKeysWithValues: state.lastMistakes.map { ($0.key.rawValue, $0.value) })
        teamStats = state.stats
        lastTeamStats = state.lastStats
        validActions = state.valid
        watchlist = state.watchlist
        groupState = state.groupState
        members = state.groupMembers
    }
}

/// The bodies of `GET /api/team-stats` and `GET /api/watchlist`: the latest record per key.
struct KeyedValues: Encodable, Sendable {
    var records: [LeaderboardState.KeyedValue]
    /// Watchlist only: companies with enough flags to be on it.
    var watchlisted: [String]?
}

/// The body of `POST /api/admin/reset`.
struct SessionReset: Encodable, Sendable {
    var sessionStartedAt: Int64
}

/// The body of `GET /api/admin/credentials`: whether the server was given the teams'
/// passwords, and each team's user and password.
struct CredentialsReport: Encodable, Sendable {
    var configured: Bool
    var teams: [TeamCredentials.Entry]
}
