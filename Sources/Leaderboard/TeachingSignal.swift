/// A lesson the board has for one team: what it saw, in one plain sentence, and the
/// tutorial's question that sentence answers. Signals teach; they cost no points.
public struct TeachingSignal: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// The team's latest team_stats or watchlist record had no key.
        case missingKey = "missing_key"
        /// … or a key other than the one its value names.
        case wrongKey = "wrong_key"
        /// The count under one key keeps going down: two instances write it.
        case writerConflict = "writer_conflict"
        /// The latest team_stats `flagged` is far from the actions the board saw.
        case statsDisagree = "stats_disagree"
        /// Actions sent again around a rebalance.
        case redelivery
        /// The group falls further behind `new_users`.
        case lagGrowing = "lag_growing"
    }

    public var kind: Kind
    /// The topic it is about, where it is about one (`team_stats`, `watchlist`).
    public var topic: String?
    public var sentence: String
    public var question: String

    public init(kind: Kind, topic: String? = nil, sentence: String, question: String) {
        self.kind = kind
        self.topic = topic
        self.sentence = sentence
        self.question = question
    }

    /// Decreases under one key, within ``recentMilliseconds``, that make a writer
    /// conflict: one is a restart (counters start at zero again), a second restart is
    /// possible, a third within two minutes is two writers.
    public static let writerConflictDecreases = 3
    /// How long a writer conflict or a stats disagreement stays shown after its last sign.
    public static let recentMilliseconds: Int64 = 120_000
    /// `flagged` this far from the team's actions (and at least ``statsSlack`` apart)
    /// disagrees; closer is a record in flight.
    public static let statsTolerance = 0.2
    public static let statsSlack = 5
    /// Lag growth over the sampled minute (at least 30 s of it) that counts as falling behind.
    public static let lagGrowth: Int64 = 50
}
