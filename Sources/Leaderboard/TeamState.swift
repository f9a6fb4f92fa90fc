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
    /// The lag as the board sampled it over the last minute, oldest first, for the
    /// lag-growing signal (a sample at most every ``lagSampleSpacing`` ms).
    public var lagSamples: [LagSample] = []
    /// The team's actions on the board (valid, mistakes, redeliveries) when its latest
    /// team_stats record was read, beside the `flagged` that record reports.
    public var actionsAtLastStats: Int?

    /// The latest record of the team the board read (action, team_stats or watchlist), ms:
    /// the board's "idle 4 min".
    public var lastActivityAt: Int64?
    /// The latest record behind each kind of mistake, for the team's details.
    public var lastMistakes: [Mistake: OffendingRecord] = [:]

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
        /// Records without a key that the Kafka gateway refused, as a real broker refuses
        /// them on a compacted topic (they never reach the topic, so are not in `records`).
        public var refused = 0
        /// How the team's latest attempt was keyed (a refused one counts as missing), and
        /// its timestamp: refusals and records reach the board by different paths, so
        /// "latest" goes by time, not by arrival.
        public var lastKey: KeyCheck?
        public var lastKeyAt: Int64?
        /// Times the count under one key went down from the same team's previous record
        /// under that key (`processed` for team_stats, `flag_count` for watchlist): one
        /// is a restart, several are two writers sharing the key.
        public var decreases = 0
        public var lastDecreaseAt: Int64?

        enum CodingKeys: String, CodingKey {
            case records, invalid, refused, decreases
            case correctKey = "correct_key"
            case missingKey = "missing_key"
            case wrongKey = "wrong_key"
            case lastKey = "last_key"
            case lastKeyAt = "last_key_at"
            case lastDecreaseAt = "last_decrease_at"
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

    /// A record that made a mistake, as its bytes read (cut to ``maxBytes`` at a
    /// character boundary), and its timestamp.
    public struct OffendingRecord: Sendable, Codable, Equatable {
        public var at: Int64
        public var record: String

        public static let maxBytes = 300

        public init(_ bytes: [UInt8], at time: Int64) {
            at = time
            var text = String(decoding: bytes.prefix(Self.maxBytes), as: UTF8.self)
            // A character cut in two decodes as U+FFFD at the end: drop it.
            if bytes.count > Self.maxBytes, text.last == "\u{FFFD}" { text.removeLast() }
            record = text
        }
    }

    /// The lag at one moment, ms.
    public struct LagSample: Sendable, Codable, Equatable {
        public var at: Int64
        public var lag: Int64

        public init(at: Int64, lag: Int64) {
            self.at = at
            self.lag = lag
        }
    }

    /// Samples kept at least this far apart, ms, over ``lagSampleSpan``.
    static let lagSampleSpacing: Int64 = 5_000
    static let lagSampleSpan: Int64 = 60_000

    var mistakeCount: Int { mistakes.values.reduce(0, +) }

    /// Every action of the team the board judged: what a student's own `flagged`
    /// counter counts.
    var actionsSent: Int { valid + mistakeCount + redeliveries }

    /// A record of the team read at `time`: its latest activity, whatever order records came in.
    mutating func active(at time: Int64) {
        lastActivityAt = max(lastActivityAt ?? time, time)
    }

    /// Keeps `lag` at `time` among the last minute's samples.
    mutating func sampleLag(_ lag: Int64, at time: Int64) {
        if let last = lagSamples.last, time - last.at < Self.lagSampleSpacing, time >= last.at { return }
        lagSamples.append(LagSample(at: time, lag: lag))
        lagSamples.removeAll { time - $0.at > Self.lagSampleSpan || $0.at > time }
    }

    /// A valid action for `customer`: counted, streak extended, customer flagged.
    mutating func scoreValid(customer: String) {
        valid += 1
        streak += 1
        bestStreak = max(bestStreak, streak)
        flagged.insert(customer)
    }
}
