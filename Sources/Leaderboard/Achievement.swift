/// What a team can unlock. Points and emoji come from the workshop file.
public enum Achievement: String, Sendable, Codable, CaseIterable, Comparable, CodingKeyRepresentable {
    // Steps of the workshop.
    case connected, firstLoad = "first_load", scaled, stats, watchlist
    // Progress.
    case firstSteps = "first_steps", fifty, century, streak = "streak_10", cleanStreak = "clean_streak"
    // Mistakes: shown so teams learn, worth nothing.
    case parseError = "parse_error", missingFields = "missing_fields", duplicate, ghostUser = "ghost_user", falsePositive = "false_positive"
    case wrongTypeOrReason = "wrong_type_or_reason"
    // Bonus.
    case partitionExplorer = "partition_explorer", lagBuster = "lag_buster", keyMaster = "key_master"
    case firstBlood = "first_blood", statsFirst = "stats_first", champion

    public enum Kind: String, Sendable, Codable {
        case step, progress, mistake, bonus
    }

    public var kind: Kind {
        switch self {
        case .connected, .firstLoad, .scaled, .stats, .watchlist: .step
        case .firstSteps, .fifty, .century, .streak, .cleanStreak: .progress
        case .parseError, .missingFields, .duplicate, .ghostUser, .falsePositive, .wrongTypeOrReason: .mistake
        case .partitionExplorer, .lagBuster, .keyMaster, .firstBlood, .statsFirst, .champion: .bonus
        }
    }

    /// Only one team can hold these.
    public var isFirstTeamOnly: Bool { self == .firstBlood || self == .statsFirst || self == .champion }

    /// What a team must hold for Champion: every step, progress and bonus achievement
    /// but the two "first team" ones (and Champion itself). The watchlist step counts
    /// only when the workshop's final step includes it; likewise stats.
    static func championRequirements(finalStep: Workshop.FinalStep) -> Set<Achievement> {
        var required = Set(allCases.filter { [.step, .progress, .bonus].contains($0.kind) && !$0.isFirstTeamOnly })
        switch finalStep {
        case .teamStats: required.subtract([.watchlist])
        case .watchlist: required.subtract([.stats, .keyMaster])
        case .both: break
        }
        return required
    }

    /// The steps a class doing `finalStep` goes through, in the tutorial's order.
    public static func steps(finalStep: Workshop.FinalStep) -> [Achievement] {
        switch finalStep {
        case .teamStats: [.connected, .firstLoad, .scaled, .stats]
        case .watchlist: [.connected, .firstLoad, .scaled, .watchlist]
        case .both: [.connected, .firstLoad, .scaled, .stats, .watchlist]
        }
    }

    /// The default emoji and points for a class doing `finalStep`: the watchlist variant's
    /// pages number the steps 1️⃣ 3️⃣ 4️⃣ 5️⃣, the team_stats variant's show 🔌 📤 ⚖️ 📊.
    public static func defaults(finalStep: Workshop.FinalStep) -> [Achievement: AchievementInfo] {
        guard finalStep == .watchlist else { return defaults }
        var numbered = defaults
        for (achievement, emoji) in [(Achievement.connected, "1️⃣"), (.firstLoad, "3️⃣"), (.scaled, "4️⃣"), (.watchlist, "5️⃣")] {
            numbered[achievement]?.emoji = emoji
        }
        return numbered
    }

    public static func < (lhs: Achievement, rhs: Achievement) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }

    static let defaults: [Achievement: AchievementInfo] = [
        .connected: .init(emoji: "🔌", title: "Connected", points: 10),
        .firstLoad: .init(emoji: "📤", title: "First Load", points: 20),
        .scaled: .init(emoji: "⚖️", title: "Scaled", points: 30),
        .stats: .init(emoji: "📊", title: "Stats", points: 40),
        .watchlist: .init(emoji: "5️⃣", title: "Watchlist", points: 40),
        .firstSteps: .init(emoji: "🐣", title: "First Steps", points: 10),
        .fifty: .init(emoji: "🔥", title: "Fifty", points: 20),
        .century: .init(emoji: "💯", title: "Century", points: 30),
        .streak: .init(emoji: "⚡", title: "Streak 10", points: 20),
        .cleanStreak: .init(emoji: "✨", title: "Clean Streak", points: 40),
        .parseError: .init(emoji: "❌", title: "Parse error", points: 0),
        .missingFields: .init(emoji: "❓", title: "Missing fields", points: 0),
        // Not 2️⃣: the watchlist variant numbers its steps with keycaps.
        .duplicate: .init(emoji: "🔁", title: "Duplicate", points: 0),
        .ghostUser: .init(emoji: "👻", title: "Ghost user", points: 0),
        .falsePositive: .init(emoji: "🙈", title: "False positive", points: 0),
        .wrongTypeOrReason: .init(emoji: "🏷️", title: "Wrong type or reason", points: 0),
        .partitionExplorer: .init(emoji: "🔬", title: "Partition Explorer", points: 30),
        .lagBuster: .init(emoji: "🚀", title: "Lag Buster", points: 30),
        .keyMaster: .init(emoji: "🔑", title: "Key Master", points: 30),
        .firstBlood: .init(emoji: "⚔️", title: "First Blood", points: 25),
        .statsFirst: .init(emoji: "🎯", title: "Stats First", points: 25),
        .champion: .init(emoji: "🏆", title: "Champion", points: 100),
    ]
}

/// How an achievement looks and what it is worth.
public struct AchievementInfo: Sendable, Codable, Equatable {
    public var emoji: String
    public var title: String
    public var points: Int

    public init(emoji: String, title: String, points: Int) {
        self.emoji = emoji
        self.title = title
        self.points = points
    }
}
