/// Every user's timeline and ordering check, rebuilt from `user-timeline` records.
///
/// Feed it each consumed post with ``apply(_:partition:offset:)``. Per user it keeps the
/// newest posts in sequence order, and checks that each sequence number is the last one
/// plus one. Redelivered posts (the same user and sequence) are stored once and counted
/// as duplicates. Sequence numbers of sends known to have failed are holes, not gaps.
///
/// A plain value: not thread-safe by itself; the app keeps it behind a lock.
public struct TimelineState: Sendable {
    /// One post as a timeline holds it.
    public struct Post: Sendable, Equatable {
        public var content: String
        public var sequence: Int64
        public var timestamp: Int64
        public var partition: Int32
        public var offset: Int64
    }

    /// What became of an applied post.
    public enum Outcome: Sendable, Equatable {
        case stored
        case storedWithViolation(OrderingViolation)
        case duplicate(OrderingViolation)
    }

    /// One user's state.
    public struct User: Sendable {
        /// Newest posts, ascending by sequence; at most the state's capacity.
        ///
        /// A slice, so dropping the oldest post once the timeline is full costs O(1)
        /// instead of moving every other post (a tenth of the consumer's time per post,
        /// profiled). The dropped posts stay in the buffer until an append outgrows it
        /// and copies the slice alone: at most about twice the capacity is kept.
        public internal(set) var posts: ArraySlice<Post> = []
        /// Distinct posts seen.
        public internal(set) var postCount = 0
        public internal(set) var duplicates = 0
        public internal(set) var violations = 0
        /// Highest sequence number seen.
        public internal(set) var lastSequence: Int64 = 0
        /// Bit n set: posts seen in partition n (partitions 0–63).
        var partitionMask: UInt64 = 0
        /// Sequence numbers below `lastSequence` not seen yet (and not known holes),
        /// each with the sequence number whose arrival revealed the gap.
        var missing: [Int64: Int64] = [:]
        var lastPosition: OrderingViolation.Position?

        /// Partitions the user's posts were read from, ascending.
        public var partitions: [Int32] {
            (0..<64).compactMap { partitionMask & (1 << UInt64($0)) != 0 ? Int32($0) : nil }
        }
    }

    public struct Counters: Sendable, Equatable, Codable {
        public var checked = 0
        public var gaps = 0
        public var outOfOrder = 0
        public var duplicates = 0
        public var knownHoles = 0

        public var violations: Int { gaps + outOfOrder + duplicates }
    }

    /// The most missing sequence numbers one gap remembers.
    public static let maxTrackedGap: Int64 = 10_000
    /// The most missing sequence numbers remembered over all users: records anyone can
    /// produce each open a gap, and memory must not follow. Numbers past the bound that
    /// arrive later count as duplicates.
    public static let maxTrackedMissing = 100_000

    /// Posts kept per user. Default: 100.
    public let capacity: Int
    /// Violations kept in ``recentViolations``. Default: 100.
    public let violationHistory: Int
    public private(set) var users: [String: User] = [:]
    public private(set) var counters = Counters()
    /// Users with at least one violation, kept as they change (counting them would walk
    /// every user).
    public private(set) var usersWithViolations = 0
    /// Missing sequence numbers remembered now, over all users.
    public private(set) var trackedMissing = 0
    /// Newest last.
    public private(set) var recentViolations: [OrderingViolation] = []
    /// Sequence numbers of sends that failed, per user: expected to be missing.
    private var holes: [String: Set<Int64>] = [:]

    public init(capacity: Int = 100, violationHistory: Int = 100) {
        self.capacity = max(1, capacity)
        self.violationHistory = max(1, violationHistory)
    }

    /// Records that the send of `sequence` for `userID` failed: its absence is no gap.
    /// A gap already reported that this explains entirely is withdrawn.
    public mutating func markHole(userID: String, sequence: Int64) {
        holes[userID, default: []].insert(sequence)
        counters.knownHoles += 1
        guard var user = users.removeValue(forKey: userID) else { return }
        let hadViolations = user.violations > 0
        defer {
            if hadViolations, user.violations == 0 { usersWithViolations -= 1 }
            users[userID] = user
        }
        guard let revealedBy = user.missing.removeValue(forKey: sequence) else { return }
        trackedMissing -= 1
        guard !user.missing.values.contains(revealedBy) else { return }
        user.violations -= 1
        counters.gaps -= 1
        recentViolations.removeAll { $0.kind == .gap && $0.userID == userID && $0.got == revealedBy }
    }

    /// Applies one consumed post.
    @discardableResult
    public mutating func apply(_ record: PostRecord, partition: Int32, offset: Int64) -> Outcome {
        counters.checked += 1
        var user = users.removeValue(forKey: record.userID) ?? User()
        let hadViolations = user.violations > 0
        defer {
            if !hadViolations, user.violations > 0 { usersWithViolations += 1 }
            users[record.userID] = user
        }
        let position = OrderingViolation.Position(partition: partition, offset: offset)
        let sequence = record.sequence
        // Saturating: the state is public API, and a caller may apply any Int64.
        let expected = user.lastSequence == .max ? .max : user.lastSequence + 1

        func violation(_ kind: OrderingViolation.Kind) -> OrderingViolation {
            OrderingViolation(kind: kind, userID: record.userID, expected: expected, got: sequence, record: position, previous: user.lastPosition, timestamp: record.timestamp)
        }

        var found: OrderingViolation?
        if sequence <= user.lastSequence {
            if user.missing.removeValue(forKey: sequence) != nil {
                trackedMissing -= 1
                found = violation(.outOfOrder)
                counters.outOfOrder += 1
            } else if holes[record.userID]?.remove(sequence) != nil {
                // A send reported failed was stored after all (librdkafka: possibly
                // persisted). It is simply late: keep it.
            } else {
                let duplicate = violation(.duplicate)
                user.duplicates += 1
                user.violations += 1
                counters.duplicates += 1
                remember(duplicate)
                return .duplicate(duplicate)
            }
        } else {
            if sequence > expected {
                let knownHoles = holes[record.userID] ?? []
                var unexplained = 0
                // Missing numbers are tracked one by one, up to a bound per gap, so a
                // user first seen at sequence 10^9 costs no memory; numbers past the
                // bound that arrive later count as duplicates.
                let bound = expected > .max - Self.maxTrackedGap ? .max : expected + Self.maxTrackedGap
                let tracked = expected..<min(sequence, bound)
                if sequence - expected > Self.maxTrackedGap { unexplained += 1 }
                for skipped in tracked where !knownHoles.contains(skipped) {
                    unexplained += 1
                    guard trackedMissing < Self.maxTrackedMissing else { break }
                    if user.missing.updateValue(sequence, forKey: skipped) == nil { trackedMissing += 1 }
                }
                if unexplained > 0 {
                    found = violation(.gap)
                    counters.gaps += 1
                }
            }
            user.lastSequence = sequence
            user.lastPosition = position
        }
        store(Post(content: record.content, sequence: sequence, timestamp: record.timestamp, partition: partition, offset: offset), in: &user)
        if partition >= 0, partition < 64 { user.partitionMask |= 1 << UInt64(partition) }
        user.postCount += 1
        guard let found else { return .stored }
        user.violations += 1
        remember(found)
        return .storedWithViolation(found)
    }

    private func store(_ post: Post, in user: inout User) {
        if let last = user.posts.last, last.sequence > post.sequence {
            let index = user.posts.firstIndex { $0.sequence > post.sequence } ?? user.posts.endIndex
            user.posts.insert(post, at: index)
        } else {
            user.posts.append(post)
        }
        if user.posts.count > capacity { user.posts.removeFirst(user.posts.count - capacity) }
    }

    private mutating func remember(_ violation: OrderingViolation) {
        recentViolations.append(violation)
        if recentViolations.count > violationHistory { recentViolations.removeFirst(recentViolations.count - violationHistory) }
    }

    /// The highest sequence number seen for each user: where new posts continue.
    public var lastSequences: [String: Int64] {
        users.mapValues(\.lastSequence)
    }
}
