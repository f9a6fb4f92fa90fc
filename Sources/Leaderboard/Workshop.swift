import Foundation

/// Everything a workshop session is made of: teams and their rules, topics, thresholds
/// and points. The defaults are the public tutorial's fifteen teams; `--workshop FILE`
/// loads another (JSON, same shape as ``Workshop/default`` encodes to, any key left out
/// taking its default: see `Workshop+Decoding.swift`).
public struct Workshop: Sendable, Codable, Equatable {
    /// One team: who it is, which `new_users` it must flag, and how.
    public struct Team: Sendable, Codable, Equatable {
        /// Also the consumer group id the team's app uses.
        public var name: String
        public var rule: Condition
        public var type: String
        public var reason: String
        /// The rule in words, for the board.
        public var description: String

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, rule, type, reason, description
        }

        public init(name: String, rule: Condition, type: String, reason: String, description: String) {
            self.name = name
            self.rule = rule
            self.type = type
            self.reason = reason
            self.description = description
        }
    }

    public struct Topics: Sendable, Codable, Equatable {
        public var newUsers = "new_users"
        public var actions = "actions"
        public var teamStats = "team_stats"
        public var watchlist = "watchlist"
        public var leaderboardState = "leaderboard_state"
        /// Partitions of new_users, actions, team_stats and watchlist.
        public var partitions = 5

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case actions, watchlist, partitions
            case newUsers = "new_users"
            case teamStats = "team_stats"
            case leaderboardState = "leaderboard_state"
        }
    }

    /// Which variant of the last step the class does.
    public enum FinalStep: String, Sendable, Codable, CaseIterable {
        case teamStats = "team_stats"
        case watchlist
        case both
    }

    public struct Thresholds: Sendable, Codable, Equatable {
        /// A matching user not flagged after this long counts as missed. Default: 120 s.
        public var missedAfterSeconds = 120
        /// A duplicate action this close (before or after) to a change of the team's group
        /// (a member joined or left, partitions moved) is a redelivery, Kafka's
        /// at-least-once contract around a rebalance, not a mistake. Default: 30 s.
        public var redeliveryWindowSeconds = 30
        /// Valid actions for First Steps, Fifty, Century.
        public var firstSteps = 10
        public var fifty = 50
        public var century = 100
        /// Valid actions in a row for Streak and Clean Streak.
        public var streak = 10
        public var cleanStreak = 50
        /// Members for Scaled and Partition Explorer.
        public var scaledMembers = 2
        public var explorerMembers = 3
        /// Lag Buster: lag at least this high, then at most `lagLow`.
        public var lagHigh = 100
        public var lagLow = 5
        /// Correctly keyed team_stats records for Key Master.
        public var keyMaster = 25
        /// Flags for a company to be on the watchlist.
        public var watchlistFlags = 3

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case fifty, century, streak
            case missedAfterSeconds = "missed_after_seconds"
            case redeliveryWindowSeconds = "redelivery_window_seconds"
            case firstSteps = "first_steps"
            case cleanStreak = "clean_streak"
            case scaledMembers = "scaled_members"
            case explorerMembers = "explorer_members"
            case lagHigh = "lag_high"
            case lagLow = "lag_low"
            case keyMaster = "key_master"
            case watchlistFlags = "watchlist_flags"
        }
    }

    public var teams: [Team]
    public var topics = Topics()
    public var finalStep = FinalStep.teamStats
    public var thresholds = Thresholds()
    /// Fields compared in lower case, as the tutorial's student code does.
    public var caseInsensitiveFields = ["email", "industry", "profession", "field"] {
        didSet { caseInsensitive = Set(caseInsensitiveFields) }
    }
    /// The same as a set, built once: ``matches(_:team:)`` runs for every team on every user.
    var caseInsensitive: Set<String> = ["email", "industry", "profession", "field"]
    /// Emoji and points per achievement; every ``Achievement`` must be listed.
    public var achievements: [Achievement: AchievementInfo] = Achievement.defaults
    /// Points taken off per mistake of a kind, for instructors who want carelessness to
    /// cost (a team's points never go below zero). Empty by default, so boards stay
    /// comparable with earlier sessions.
    public var penalties: [Mistake: Int] = [:]

    /// The largest penalty per mistake a workshop file may set.
    public static let maxPenalty = 1_000

    enum CodingKeys: String, CodingKey, CaseIterable {
        case teams, topics, thresholds, achievements, penalties
        case finalStep = "final_step"
        case caseInsensitiveFields = "case_insensitive_fields"
    }

    public init(teams: [Team]) {
        self.teams = teams
    }

    public func team(named name: String) -> Team? {
        teams.first { $0.name == name }
    }

    /// Whether `user` is one `team` must flag.
    public func matches(_ user: NewUser, team: Team) -> Bool {
        team.rule.matches(user, caseInsensitive: caseInsensitive)
    }

    /// Loads a workshop file.
    /// - Throws: ``WorkshopError`` saying what is wrong with the file.
    public static func load(contentsOf path: String) throws(WorkshopError) -> Workshop {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path) }
        let workshop: Workshop
        do {
            workshop = try JSONDecoder().decode(Workshop.self, from: data)
        } catch {
            throw .invalid(path, "\(error)")
        }
        try workshop.validate()
        return workshop
    }

    /// Checks what decoding cannot: unique team names, every achievement priced.
    public func validate() throws(WorkshopError) {
        guard !teams.isEmpty else { throw .invalid("workshop", "no teams") }
        let names = teams.map(\.name)
        guard Set(names).count == names.count else { throw .invalid("workshop", "team names repeat") }
        let missing = Achievement.allCases.filter { achievements[$0] == nil }
        guard missing.isEmpty else { throw .invalid("workshop", "achievements without points: \(missing.map(\.rawValue).joined(separator: ", "))") }
        if let (kind, _) = penalties.first(where: { !(0...Self.maxPenalty).contains($0.value) }) {
            throw .invalid("workshop", "the penalty for \(kind.rawValue) must be 0 to \(Self.maxPenalty) points")
        }
    }
}

public enum WorkshopError: Error, Equatable, CustomStringConvertible {
    case unreadable(String)
    case invalid(String, String)

    public var description: String {
        switch self {
        case .unreadable(let path): "cannot read the workshop file \(path)"
        case .invalid(let path, let reason): "\(path) is not a valid workshop: \(reason)"
        }
    }
}
