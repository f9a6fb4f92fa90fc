import FastJSON

/// The instructor's board as a function of the workshop's topics: fed every `new_users`,
/// `actions`, `team_stats` and `watchlist` record (with its Kafka timestamp) and what
/// each team's consumer group shows, it validates, scores, awards achievements and
/// ranks. Unlock times come from record timestamps, so replaying the same records gives
/// the same board.
///
/// A plain value: not thread-safe by itself; the app keeps it behind a lock.
public struct LeaderboardState: Sendable {
    /// What one `actions` record came to.
    public enum ActionOutcome: Sendable, Equatable {
        case valid(team: String)
        case mistake(Mistake, team: String?)
        /// Stamped before the instructor reset the session view: not judged.
        case beforeSession
        /// A duplicate sent around a change of the team's group: at-least-once delivery at
        /// work, counted apart and not judged.
        case redelivery(team: String)
    }

    /// What became of a `team_stats` or `watchlist` record.
    public enum KeyedOutcome: Sendable, Equatable {
        /// Counted for `team`, keyed as `KeyCheck` says.
        case judged(team: String, KeyCheck)
        /// Stamped before the instructor reset the session view.
        case beforeSession
        /// Not a JSON object.
        case malformed
        /// Names no team of the workshop (or, on `watchlist`, no company).
        case notATeam
    }

    /// An unlock, for the `achievements` channel's celebrations.
    public struct Unlock: Sendable, Equatable, Codable {
        public var team: String
        public var achievement: Achievement
        public var at: Int64

        public init(team: String, achievement: Achievement, at: Int64) {
            self.team = team
            self.achievement = achievement
            self.at = at
        }
    }

    public let workshop: Workshop
    public internal(set) var teams: [String: TeamState]
    /// Known `new_users` by email: who exists (ghost check) and which teams must flag them.
    private var users: [String: NewUser] = [:]
    /// Per team: matching users in the order seen, for the missed count.
    private var expected: [String: [(email: String, at: Int64)]] = [:]
    /// Actions naming a team the workshop does not have.
    public internal(set) var unknownTeamActions = 0
    /// The latest `team_stats` record per key (a compacted topic's view; "" for no key).
    public internal(set) var latestTeamStats: [String: KeyedValue] = [:]

    // Bounds on what strangers' records can make the board hold (and write into its
    // snapshot records, which the broker refuses past 1 MB).

    /// Distinct record keys kept per keyed view; records with further new keys are
    /// judged and counted but not kept. Keys that name a team are always kept.
    public static let maxKeyedValues = 1_000
    /// Longest record key kept, in UTF-8 bytes.
    public static let maxKeyBytes = 256
    /// Customers remembered per team for the duplicate check.
    public static let maxRememberedCustomers = 200_000
    /// Longest customer remembered, in UTF-8 bytes (an e-mail address is at most 254).
    public static let maxCustomerBytes = 320
    /// The latest `watchlist` record per key.
    public internal(set) var latestWatchlist: [String: KeyedValue] = [:]

    /// The latest value under one key of a compacted topic, with how it was keyed.
    public struct KeyedValue: Sendable, Equatable, Codable {
        public var key: String?
        public var team: String
        /// The record's numbers (`processed`, `flagged` or `flag_count`) where sane.
        public var numbers: [String: Int64]
        /// For watchlist records: the company.
        public var company: String?
        public var keyCheck: KeyCheck
        public var at: Int64
        /// For team_stats records: the team's valid actions on the board when the record
        /// was read, to compare with the `flagged` it reports.
        public var validActions: Int?
        /// Records read under this key so far, of which a compacted topic keeps only the
        /// latest: step 5's lesson. Absent in snapshots written before it was counted.
        public var records: Int?

        enum CodingKeys: String, CodingKey {
            case key, team, numbers, company, at, records
            case keyCheck = "key_check"
            case validActions = "valid_actions"
        }
    }
    /// When the instructor last reset the session view (ms): records stamped earlier no
    /// longer score, and users seen earlier are known but expected from no team.
    public internal(set) var sessionStartedAt: Int64?
    /// Unlocks not yet taken by ``takeUnlocks()``.
    private var pendingUnlocks: [Unlock] = []
    private let championRequirements: Set<Achievement>
    /// Achievements some team holds, kept beside `teams` so that the one-team honours
    /// are checked without walking every team on every record.
    var heldByAnyTeam: Set<Achievement> = []

    public init(workshop: Workshop) {
        self.workshop = workshop
        teams = Dictionary(uniqueKeysWithValues: workshop.teams.map { ($0.name, TeamState()) })
        championRequirements = Achievement.championRequirements(finalStep: workshop.finalStep)
    }

    /// Users known for the ghost check.
    public var knownUsers: Int { users.count }

    /// Whether `email` was seen in `new_users`.
    public func knows(_ email: String) -> Bool { users[email] != nil }

    // MARK: Records

    /// A `new_users` record. Malformed ones are ignored (the generator's, not a team's);
    /// returns whether it was a user.
    @discardableResult
    public mutating func userSeen(_ value: [UInt8], at time: Int64) -> Bool {
        guard let user = NewUser.decode(value), let email = user.email else { return false }
        guard users[email] == nil else { return true }
        users[email] = user
        guard time >= sessionStartedAt ?? .min else { return true }
        for team in workshop.teams where workshop.matches(user, team: team) {
            expected[team.name, default: []].append((email, time))
        }
        return true
    }

    /// Validates an `actions` record, in the order the board documents: parse, missing
    /// fields, unknown team, duplicate, ghost user, false positive, wrong type or reason.
    @discardableResult
    public mutating func action(_ value: [UInt8], at time: Int64) -> ActionOutcome {
        guard time >= sessionStartedAt ?? .min else { return .beforeSession }
        guard let fields = FlatJSON.parseObject(value) else {
            return mistake(.parseError, team: leniently(value), at: time, record: value)
        }
        func text(_ name: String) -> String? {
            guard case .string(let value) = fields[name], !value.isEmpty else { return nil }
            return value
        }
        let teamName = text("team")
        guard let customer = text("customer"), let type = text("type"), let reason = text("reason"), let teamName else {
            return mistake(.missingFields, team: teamName ?? leniently(value), at: time, record: value)
        }
        guard let team = workshop.team(named: teamName) else {
            unknownTeamActions += 1
            return .mistake(.unknownTeam, team: nil)
        }
        let remember = customer.utf8.count <= Self.maxCustomerBytes && (teams[teamName]?.sent.count ?? 0) < Self.maxRememberedCustomers
        // A customer not remembered still counts as a duplicate once flagged: a valid
        // action for it must not score again.
        let firstTime = remember
            ? teams[teamName, default: TeamState()].sent.insert(customer).inserted
            : teams[teamName].map { !$0.sent.contains(customer) && !$0.flagged.contains(customer) } ?? true
        guard firstTime else {
            if isRedelivery(team: teamName, at: time) {
                teams[teamName, default: TeamState()].redeliveries += 1
                teams[teamName]?.active(at: time)
                return .redelivery(team: teamName)
            }
            return mistake(.duplicate, team: teamName, at: time, record: value)
        }
        guard let user = users[customer] else { return mistake(.ghostUser, team: teamName, at: time, record: value) }
        guard workshop.matches(user, team: team) else { return mistake(.falsePositive, team: teamName, at: time, record: value) }
        guard type == team.type, reason == team.reason else { return mistake(.wrongTypeOrReason, team: teamName, at: time, record: value) }

        // In place: a copy of the team's state would copy its `flagged` set on insert,
        // once per valid action (a rebuild of a long class took minutes that way).
        teams[teamName, default: TeamState()].scoreValid(customer: customer)
        teams[teamName]?.active(at: time)
        evaluate(teamName, at: time)
        return .valid(team: teamName)
    }

    /// A `team_stats` record: `{"team","processed","flagged"}` keyed by the team name.
    @discardableResult
    public mutating func teamStats(key: String?, value: [UInt8], at time: Int64) -> KeyedOutcome {
        guard time >= sessionStartedAt ?? .min else { return .beforeSession }
        guard let fields = FlatJSON.parseObject(value) else { return .malformed }
        guard case .string(let teamName) = fields["team"], teams[teamName] != nil else { return .notATeam }
        let check = Self.keyCheck(key, expected: teamName)
        let value = KeyedValue(
            key: key, team: teamName, numbers: Self.integers(fields, ["processed", "flagged"]), company: nil, keyCheck: check, at: time,
            validActions: teams[teamName]?.valid
        )
        var state = teams[teamName, default: TeamState()]
        if Self.decreased(value, from: latestTeamStats[key ?? ""], number: "processed") {
            state.stats.decreased(at: time)
        }
        Self.keep(value, under: key, in: &latestTeamStats, always: teams[key ?? ""] != nil)
        state.stats.count(check, at: time)
        state.active(at: time)
        state.actionsAtLastStats = state.actionsSent
        if case .integer(let processed) = fields["processed"], case .integer(let flagged) = fields["flagged"],
           processed >= 0, flagged >= 0, flagged <= processed {
            state.lastStats = .init(processed: processed, flagged: flagged)
        } else {
            state.stats.invalid += 1
        }
        teams[teamName] = state
        evaluate(teamName, at: time)
        return .judged(team: teamName, check)
    }

    /// A `watchlist` record: `{"team","company","flag_count"}` keyed by the company.
    @discardableResult
    public mutating func watchlist(key: String?, value: [UInt8], at time: Int64) -> KeyedOutcome {
        guard time >= sessionStartedAt ?? .min else { return .beforeSession }
        guard let fields = FlatJSON.parseObject(value) else { return .malformed }
        guard case .string(let teamName) = fields["team"], teams[teamName] != nil,
              case .string(let company) = fields["company"], !company.isEmpty
        else { return .notATeam }
        let check = Self.keyCheck(key, expected: company)
        let value = KeyedValue(key: key, team: teamName, numbers: Self.integers(fields, ["flag_count"]), company: company, keyCheck: check, at: time)
        var state = teams[teamName, default: TeamState()]
        // Keyed by company: only a correctly keyed view is one company's count.
        if check == .correct, Self.decreased(value, from: latestWatchlist[key ?? ""], number: "flag_count") {
            state.watchlist.decreased(at: time)
        }
        Self.keep(value, under: key, in: &latestWatchlist, always: false)
        state.watchlist.count(check, at: time)
        state.active(at: time)
        if case .integer(let count) = fields["flag_count"], count >= 1 {} else { state.watchlist.invalid += 1 }
        teams[teamName] = state
        evaluate(teamName, at: time)
        return .judged(team: teamName, check)
    }

    /// A record without a key that the Kafka gateway refused for a compacted topic, as a
    /// real broker does: it never reaches the topic, so the board learns of it here and
    /// shows the team its missing key. Values that name no team of the workshop are ignored.
    /// Returns the team it was counted for.
    @discardableResult
    public mutating func keylessRefused(topic: String, value: [UInt8], at time: Int64) -> String? {
        guard time >= sessionStartedAt ?? .min, topic == workshop.topics.teamStats || topic == workshop.topics.watchlist,
              let fields = FlatJSON.parseObject(value), case .string(let teamName) = fields["team"], var state = teams[teamName]
        else { return nil }
        if topic == workshop.topics.teamStats {
            state.stats.refused += 1
            state.stats.attempted(.missing, at: time)
        } else {
            state.watchlist.refused += 1
            state.watchlist.attempted(.missing, at: time)
        }
        teams[teamName] = state
        return teamName
    }

    /// Whether `value` counts lower than the same team's previous record under its key.
    private static func decreased(_ value: KeyedValue, from previous: KeyedValue?, number: String) -> Bool {
        guard let previous, previous.team == value.team, let before = previous.numbers[number], let now = value.numbers[number] else { return false }
        return now < before
    }

    /// Keeps `value` as the latest under `key` within ``maxKeyedValues`` and
    /// ``maxKeyBytes``; `always` keeps it past the count (a team's own key).
    private static func keep(_ value: KeyedValue, under key: String?, in view: inout [String: KeyedValue], always: Bool) {
        let name = key ?? ""
        guard name.utf8.count <= maxKeyBytes else { return }
        guard view[name] != nil || view.count < maxKeyedValues || always else { return }
        var value = value
        value.records = (view[name]?.records ?? 0) + 1
        view[name] = value
    }

    /// What a team's consumer group shows: members and state where the broker can
    /// describe groups, whether it committed offsets (all brokers), and its lag on
    /// `new_users`; `assignment` is each member's share of it where known.
    public mutating func groupObserved(
        team teamName: String, members: Int?, assignment: [GroupMember]? = nil, state groupState: String?,
        committed: Bool, lag: Int64?, at time: Int64
    ) {
        guard var state = teams[teamName] else { return }
        if let assignment, Self.shape(of: assignment) != Self.shape(of: state.groupMembers ?? []) {
            state.groupChangedAt = time
        }
        state.members = members
        state.groupMembers = assignment
        state.groupState = groupState
        if committed || groupState == "Stable" { state.connected = true }
        let hasPartitions = assignment?.contains { !$0.partitions.isEmpty } ?? committed
        if state.startedAt == nil, hasPartitions { state.startedAt = time }
        state.lag = lag
        if let lag {
            state.sampleLag(lag, at: time)
            if lag >= Int64(workshop.thresholds.lagHigh) { state.lagWasHigh = true }
        }
        teams[teamName] = state
        evaluate(teamName, at: time)
    }

    /// Starts a new session view at `time` (ms), for the instructor between two classes
    /// or after a rehearsal: scores, mistakes, achievements and the one-team honours
    /// (First Blood, Stats First, Champion) start over, and records stamped before
    /// `time` no longer count. Users read so far stay known, so an action for one of them
    /// is no ghost, but no team is expected to flag them (missed). The latest keyed
    /// values of the compacted topics are the topics' content and stay.
    public mutating func resetSession(at time: Int64) {
        sessionStartedAt = time
        teams = Dictionary(uniqueKeysWithValues: workshop.teams.map { ($0.name, TeamState()) })
        expected = [:]
        unknownTeamActions = 0
        pendingUnlocks = []
        heldByAnyTeam = []
    }

    // MARK: Reading

    /// Whether a duplicate stamped `time` falls within the redelivery window of the last
    /// change of `team`'s group. Timestamps are the records' own: the difference is taken
    /// without overflow, whatever a forged record says.
    func isRedelivery(team: String, at time: Int64) -> Bool {
        guard let changed = teams[team]?.groupChangedAt else { return false }
        let (difference, overflow) = time.subtractingReportingOverflow(changed)
        let window = Int64(min(max(workshop.thresholds.redeliveryWindowSeconds, 0), 3600)) * 1000
        return !overflow && difference.magnitude <= UInt64(window)
    }

    /// A group's members and their partitions, in no particular order: two looks at the
    /// same group compare equal.
    static func shape(of members: [GroupMember]) -> [String] {
        members.map { "\($0.clientID)|\($0.host)|\($0.partitions)" }.sorted()
    }

    /// Matching users not flagged by `team` within the threshold, as of `now`: only
    /// those that appeared once the team had started (``TeamState/startedAt``), so a team
    /// is not charged for the users produced before its consumer existed.
    public func missed(team: String, now: Int64) -> Int {
        guard let list = expected[team], let state = teams[team], let started = state.startedAt else { return 0 }
        let cutoff = now - Int64(workshop.thresholds.missedAfterSeconds) * 1000
        return list.reduce(0) { $0 + ($1.at >= started && $1.at <= cutoff && !state.flagged.contains($1.email) ? 1 : 0) }
    }

    /// Achievement points less the workshop's penalties, never below zero.
    public func points(_ team: String) -> Int {
        guard let state = teams[team] else { return 0 }
        let earned = state.unlocked.keys.reduce(0) { $0 + (workshop.achievements[$1]?.points ?? 0) }
        return max(0, earned - penalty(team))
    }

    /// Points the workshop's penalties take from `team` (0 unless the file sets some).
    /// Counts are bounded by the snapshot check and penalties by the workshop's: no overflow.
    public func penalty(_ team: String) -> Int {
        guard !workshop.penalties.isEmpty, let state = teams[team] else { return 0 }
        return state.mistakes.reduce(0) { $0 + $1.value * (workshop.penalties[$1.key] ?? 0) }
    }

    /// Teams in rank order: points, then steps, then the earliest last unlock, then team
    /// number (team-2 before team-10).
    public func ranking() -> [String] {
        workshop.teams.map(\.name).sorted { a, b in
            let (pa, pb) = (points(a), points(b))
            if pa != pb { return pa > pb }
            let (sa, sb) = (steps(a), steps(b))
            if sa != sb { return sa > sb }
            let (la, lb) = (lastUnlock(a) ?? .max, lastUnlock(b) ?? .max)
            if la != lb { return la < lb }
            return Self.teamOrder(a, b)
        }
    }

    /// Unlocks since the last call, oldest first.
    public mutating func takeUnlocks() -> [Unlock] {
        defer { pendingUnlocks = [] }
        return pendingUnlocks
    }

    // MARK: Rules

    private mutating func mistake(_ kind: Mistake, team: String?, at time: Int64, record: [UInt8]) -> ActionOutcome {
        if let team, var state = teams[team] {
            state.mistakes[kind, default: 0] += 1
            state.streak = 0
            state.lastMistakes[kind] = TeamState.OffendingRecord(record, at: time)
            state.active(at: time)
            teams[team] = state
            if let achievement = kind.achievement { unlock(achievement, team: team, at: time) }
            evaluate(team, at: time)
        }
        return .mistake(kind, team: team)
    }

    /// Unlocks whatever `team` now qualifies for.
    private mutating func evaluate(_ team: String, at time: Int64) {
        guard let state = teams[team] else { return }
        let t = workshop.thresholds
        let earned: [(Achievement, Bool)] = [
            (.connected, state.connected),
            (.firstLoad, state.valid >= 1),
            (.scaled, (state.members ?? 0) >= t.scaledMembers),
            // A step counts once it works: stats or a watchlist from a team with no valid
            // action (every reason misspelt) show the key, not the step.
            (.stats, state.valid >= 1 && state.stats.correctKey >= 1),
            (.watchlist, state.valid >= 1 && state.watchlist.correctKey >= 1),
            (.firstSteps, state.valid >= t.firstSteps),
            (.fifty, state.valid >= t.fifty),
            (.century, state.valid >= t.century),
            (.streak, state.streak >= t.streak),
            (.cleanStreak, state.streak >= t.cleanStreak),
            (.partitionExplorer, (state.members ?? 0) >= t.explorerMembers),
            (.lagBuster, state.lagWasHigh && (state.lag ?? .max) <= Int64(t.lagLow)),
            (.keyMaster, state.valid >= 1 && state.stats.correctKey >= t.keyMaster),
        ]
        for (achievement, holds) in earned where holds { unlock(achievement, team: team, at: time) }
        if state.connected, !anyTeamHolds(.firstBlood) { unlock(.firstBlood, team: team, at: time) }
        if state.valid >= 1, state.stats.correctKey >= 1, !anyTeamHolds(.statsFirst) { unlock(.statsFirst, team: team, at: time) }
        if !anyTeamHolds(.champion), let unlocked = teams[team]?.unlocked, championRequirements.allSatisfy({ unlocked[$0] != nil }) {
            unlock(.champion, team: team, at: time)
        }
    }

    private mutating func unlock(_ achievement: Achievement, team: String, at time: Int64) {
        guard teams[team]?.unlocked[achievement] == nil else { return }
        teams[team]?.unlocked[achievement] = time
        heldByAnyTeam.insert(achievement)
        pendingUnlocks.append(Unlock(team: team, achievement: achievement, at: time))
    }

    private func anyTeamHolds(_ achievement: Achievement) -> Bool {
        heldByAnyTeam.contains(achievement)
    }

    private func steps(_ team: String) -> Int {
        teams[team]?.unlocked.keys.filter { $0.kind == .step }.count ?? 0
    }

    private func lastUnlock(_ team: String) -> Int64? {
        teams[team]?.unlocked.filter { $0.key.kind != .mistake }.values.max()
    }

    /// The team a malformed record most likely came from: the longest team name in it.
    private func leniently(_ value: [UInt8]) -> String? {
        let text = String(decoding: value, as: UTF8.self)
        return workshop.teams.map(\.name).filter { name in
            // "team-1" must not match inside "team-10".
            var searchRange = text.startIndex..<text.endIndex
            while let found = text.range(of: name, range: searchRange) {
                let next = found.upperBound < text.endIndex ? text[found.upperBound] : " "
                if !next.isNumber { return true }
                searchRange = found.upperBound..<text.endIndex
            }
            return false
        }.max { $0.count < $1.count }
    }

    /// Companies on the watchlist: at least the threshold of flags in their latest record.
    public var watchlistedCompanies: [String] {
        latestWatchlist.values.filter { ($0.numbers["flag_count"] ?? 0) >= Int64(workshop.thresholds.watchlistFlags) }.compactMap(\.company).sorted()
    }

    private static func integers(_ fields: [String: FlatJSON.Value], _ names: [String]) -> [String: Int64] {
        var numbers: [String: Int64] = [:]
        for name in names { if case .integer(let value) = fields[name] { numbers[name] = value } }
        return numbers
    }

    static func keyCheck(_ key: String?, expected: String) -> KeyCheck {
        guard let key, !key.isEmpty else { return .missing }
        return key == expected ? .correct : .wrong
    }

    /// team-2 before team-10: by the number after the last "-", then by name.
    static func teamOrder(_ a: String, _ b: String) -> Bool {
        let na = a.split(separator: "-").last.flatMap { Int($0) }
        let nb = b.split(separator: "-").last.flatMap { Int($0) }
        if let na, let nb, na != nb { return na < nb }
        return a < b
    }
}

extension TeamState.KeyedRecords {
    mutating func count(_ check: KeyCheck, at time: Int64) {
        records += 1
        attempted(check, at: time)
        switch check {
        case .correct: correctKey += 1
        case .missing: missingKey += 1
        case .wrong: wrongKey += 1
        }
    }

    /// Keeps `check` as the latest attempt unless a later one is known already.
    mutating func attempted(_ check: KeyCheck, at time: Int64) {
        guard time >= lastKeyAt ?? .min else { return }
        lastKey = check
        lastKeyAt = time
    }

    mutating func decreased(at time: Int64) {
        decreases += 1
        lastDecreaseAt = time
    }
}
