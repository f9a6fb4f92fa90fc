/// One team's standing, built from the records it produced and what its consumer group
/// shows. Codable: the board's snapshots in `leaderboard_state` carry it.
public struct TeamState: Sendable, Codable, Equatable {
    public var valid = 0
    /// Valid actions in a row; any mistake resets it.
    public var streak = 0
    public var bestStreak = 0
    public var mistakes: [Mistake: Int] = [:]
    /// Customers the team flagged correctly.
    public var flagged: Set<String> = []
    /// Every customer the team sent an action for (duplicate check).
    public var sent: Set<String> = []

    public var stats = KeyedRecords()
    public var watchlist = KeyedRecords()
    /// The latest team_stats value (`processed`, `flagged`) with a sane shape.
    public var lastStats: TeamStats?

    public var members: Int?
    /// Each member's `new_users` partitions, where the broker can describe groups.
    public var groupMembers: [GroupMember]?
    public var groupState: String?
    public var connected = false
    /// When the team's group first had partitions assigned (or, where groups are not
    /// described, first committed offsets), ms. Users that appeared before are not
    /// expected of the team: a consumer that starts at `latest` (kafka-python's default)
    /// never sees them.
    public var startedAt: Int64?
    /// When the team's group last changed (a member joined or left, partitions moved), ms.
    public var groupChangedAt: Int64?
    /// Duplicate actions sent around a change of the group: redelivered records, counted
    /// and shown, never mistakes.
    public var redeliveries = 0
    public var lag: Int64?
    /// Lag Buster: the lag reached the high mark at least once.
    public var lagWasHigh = false

    /// Unlock times (ms since the epoch, from record timestamps).
    public var unlocked: [Achievement: Int64] = [:]

    public init() {}

    public struct KeyedRecords: Sendable, Codable, Equatable {
        public var records = 0
        public var correctKey = 0
        public var missingKey = 0
        public var wrongKey = 0
        /// Records whose numbers were not sane (negative, flagged > processed, …).
        public var invalid = 0

        enum CodingKeys: String, CodingKey {
            case records, invalid
            case correctKey = "correct_key"
            case missingKey = "missing_key"
            case wrongKey = "wrong_key"
        }

        public init(records: Int = 0, correctKey: Int = 0, missingKey: Int = 0, wrongKey: Int = 0, invalid: Int = 0) {
            self.records = records
            self.correctKey = correctKey
            self.missingKey = missingKey
            self.wrongKey = wrongKey
            self.invalid = invalid
        }
    }

    public struct TeamStats: Sendable, Codable, Equatable {
        public var processed: Int64
        public var flagged: Int64

        public init(processed: Int64, flagged: Int64) {
            self.processed = processed
            self.flagged = flagged
        }
    }

    var mistakeCount: Int { mistakes.values.reduce(0, +) }

    /// A valid action for `customer`: counted, streak extended, customer flagged.
    mutating func scoreValid(customer: String) {
        valid += 1
        streak += 1
        bestStreak = max(bestStreak, streak)
        flagged.insert(customer)
    }
}
