import Foundation

/// Workshop files list only what they change: every key may be left out and takes the
/// built-in default (teams: the tutorial's fifteen; achievements: merged over the
/// defaults, so a file can reprice one). A key the format does not know is refused, so
/// a typo ("threshold") is an error at start, not a silently ignored setting.
extension Workshop {
    public init(from decoder: any Decoder) throws {
        try Self.refuseUnknownKeys(decoder, known: CodingKeys.allCases, in: "workshop")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Workshop.default
        self.init(teams: try container.decodeIfPresent([Team].self, forKey: .teams) ?? defaults.teams)
        topics = try container.decodeIfPresent(Topics.self, forKey: .topics) ?? Topics()
        finalStep = try container.decodeIfPresent(FinalStep.self, forKey: .finalStep) ?? defaults.finalStep
        thresholds = try container.decodeIfPresent(Thresholds.self, forKey: .thresholds) ?? Thresholds()
        caseInsensitiveFields = try container.decodeIfPresent([String].self, forKey: .caseInsensitiveFields) ?? defaults.caseInsensitiveFields
        caseInsensitive = Set(caseInsensitiveFields)  // its didSet does not run in an initializer
        let priced = try container.decodeIfPresent([Achievement: AchievementInfo].self, forKey: .achievements) ?? [:]
        achievements = Achievement.defaults(finalStep: finalStep).merging(priced) { $1 }
        penalties = try container.decodeIfPresent([Mistake: Int].self, forKey: .penalties) ?? [:]
    }

    /// Throws when the object at `decoder` has a key not in `known`.
    static func refuseUnknownKeys<Key: CodingKey>(_ decoder: any Decoder, known: [Key], in place: String) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        let names = Set(known.map(\.stringValue))
        let unknown = container.allKeys.map(\.stringValue).filter { !names.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "unknown \(unknown.count == 1 ? "key" : "keys") in \(place): \(unknown.joined(separator: ", ")) (known: \(names.sorted().joined(separator: ", ")))"
            ))
        }
    }
}

extension Workshop.Topics {
    public init(from decoder: any Decoder) throws {
        try Workshop.refuseUnknownKeys(decoder, known: CodingKeys.allCases, in: "topics")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        newUsers = try container.decodeIfPresent(String.self, forKey: .newUsers) ?? newUsers
        actions = try container.decodeIfPresent(String.self, forKey: .actions) ?? actions
        teamStats = try container.decodeIfPresent(String.self, forKey: .teamStats) ?? teamStats
        watchlist = try container.decodeIfPresent(String.self, forKey: .watchlist) ?? watchlist
        leaderboardState = try container.decodeIfPresent(String.self, forKey: .leaderboardState) ?? leaderboardState
        partitions = try container.decodeIfPresent(Int.self, forKey: .partitions) ?? partitions
    }
}

extension Workshop.Thresholds {
    public init(from decoder: any Decoder) throws {
        try Workshop.refuseUnknownKeys(decoder, known: CodingKeys.allCases, in: "thresholds")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        func value(_ key: CodingKeys, _ fallback: Int) throws -> Int {
            try container.decodeIfPresent(Int.self, forKey: key) ?? fallback
        }
        missedAfterSeconds = try value(.missedAfterSeconds, missedAfterSeconds)
        redeliveryWindowSeconds = try value(.redeliveryWindowSeconds, redeliveryWindowSeconds)
        firstSteps = try value(.firstSteps, firstSteps)
        fifty = try value(.fifty, fifty)
        century = try value(.century, century)
        streak = try value(.streak, streak)
        cleanStreak = try value(.cleanStreak, cleanStreak)
        scaledMembers = try value(.scaledMembers, scaledMembers)
        explorerMembers = try value(.explorerMembers, explorerMembers)
        lagHigh = try value(.lagHigh, lagHigh)
        lagLow = try value(.lagLow, lagLow)
        keyMaster = try value(.keyMaster, keyMaster)
        watchlistFlags = try value(.watchlistFlags, watchlistFlags)
    }
}

extension Workshop.Team {
    public init(from decoder: any Decoder) throws {
        try Workshop.refuseUnknownKeys(decoder, known: CodingKeys.allCases, in: "team")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let rule = try container.decode(Condition.self, forKey: .rule)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            rule: rule,
            type: try container.decode(String.self, forKey: .type),
            reason: try container.decode(String.self, forKey: .reason),
            // The board shows it; without one, the rule as the file wrote it.
            description: try container.decodeIfPresent(String.self, forKey: .description) ?? Self.ruleText(rule)
        )
    }
}

extension Workshop.Team {
    static func ruleText(_ rule: Condition) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(rule)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}

/// Any key of a JSON object, to list them all.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }

    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
