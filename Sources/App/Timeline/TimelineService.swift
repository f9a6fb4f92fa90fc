import Foundation
public import Kafka
public import Logging
import Synchronization
import Timeline

/// The StreamSocial half of the server: assigns each user's sequence numbers, and
/// rebuilds timelines, ordering checks and partition statistics from `user-timeline`.
///
/// The timeline consumer reads every partition from the start on each server start, so
/// the view is rebuilt from Kafka. It is assigned the partitions instead of joining a
/// group (a student's consumer using the same group name cannot take partitions away)
/// and commits what it processed under a group named for this server instance
/// (``groupID(instance:)``), so Kafka tools see its lag. New posts wait until the
/// replay has reached the end of the log as it was at start (``TimelineRecovery``).
///
/// Everything it changes is one ``State`` behind one lock; reports are built from
/// copies after the lock is released.
public final class TimelineService: Sendable {
    /// A record of `user-timeline` that is not a post.
    struct MalformedRecord: Codable, Sendable, Equatable {
        var partition: Int32
        var offset: Int64
        var reason: PostRecord.Malformation
        var bytes: Int
    }

    struct MalformedLog: Sendable {
        var count = 0
        var byReason: [PostRecord.Malformation: Int] = [:]
        var recent: [MalformedRecord] = []
    }

    /// What one consumed record did, for the live channels.
    enum Applied {
        case post(RecentPosts.Message, violation: OrderingViolation?)
        case duplicate(OrderingViolation)
        case malformed(MalformedRecord)
        /// The same partition and offset read again (the consumer went back after a
        /// broker failover): already applied, skipped.
        case reread
    }

    /// The service's state: one value, one lock.
    struct State: Sendable {
        var timelines: TimelineState
        var analyzer: PartitionAnalyzer
        var produced = RateWindows()
        var consumed = RateWindows()
        var malformed = MalformedLog()
        var recent: RecentPosts
        var recovery = TimelineRecovery()
        /// Next offset to read per partition, as consumed so far.
        var positions: [Int32: Int64] = [:]
        /// Past the last post this server had acknowledged, per partition: what a clean
        /// stop lets the consumer read (and commit) before it closes.
        var acknowledgedEnds: [Int32: Int64] = [:]
        /// Records read again at an offset already applied: not duplicates of a post (the
        /// log holds it once), just the consumer fetching it twice.
        var rereads = 0
        var sequences = SequenceAllocator()
        /// Counts records applied: a ranking of the users built at one value is current
        /// while it stays.
        var usersVersion: UInt64 = 0
        /// The users each applied post touched, by version: for rankings kept up to date.
        var changes = UsersChangeLog()

        var readiness: TimelineRecovery.Readiness { recovery.readiness(positions: positions) }

        /// Recovery finished: new numbers continue above the log's.
        mutating func becameReady() -> Int {
            let last = timelines.lastSequences
            sequences.raise(to: last)
            return last.count
        }
    }

    /// The group the timeline consumer commits under: one per server instance, so two
    /// servers on one cluster, or a student's consumer, never share its offsets.
    static func groupID(instance: String) -> String { "timeline-consumer-group-\(instance)" }

    /// The topic posts are produced to and read from.
    let topic: String
    let partitionCount: Int
    let timelineCapacity: Int
    private let state: Mutex<State>
    private let logger: Logger

    public init(topic: String = Topics.userTimeline.name, partitionCount: Int, timelineCapacity: Int, recentMessages: Int, logger: Logger) {
        self.topic = topic
        self.partitionCount = partitionCount
        self.timelineCapacity = timelineCapacity
        state = Mutex(State(
            timelines: TimelineState(capacity: timelineCapacity),
            analyzer: PartitionAnalyzer(partitionCount: partitionCount),
            recent: RecentPosts(capacity: recentMessages)
        ))
        self.logger = logger
    }

    // MARK: Recovery

    var readiness: TimelineRecovery.Readiness { state.withLock { $0.readiness } }

    /// Learns where the log ended at start (blocking; retried by the caller until it
    /// succeeds). Partitions already consumed that far, or empty, count as caught up.
    func setRecoveryTargets(from admin: KafkaAdmin, topic: String) throws(KafkaError) {
        // The cluster's partitions, which the topic check reports when they differ from
        // the configured count: a topic with fewer must still take posts.
        let count = try admin.metadata().partitionCount(of: topic) ?? partitionCount
        let ends = try admin.watermarks(topic: topic, partitionCount: count)
            .filter { $0.value.high > $0.value.low }.mapValues(\.high)
        let users = state.withLock { state in
            state.recovery.setTargets(ends: ends, positions: state.positions) ? state.becameReady() : nil
        }
        logReady(users)
    }

    /// The timeline consumer got `partitions`: records will flow once each is read.
    func partitionsAssigned(_ partitions: [Int32] = []) {
        let users = state.withLock { state in state.recovery.partitionsAssigned(Set(partitions)) ? state.becameReady() : nil }
        logReady(users)
    }

    /// The timeline consumer reached the end of `partition`: it is reading it.
    func reachedEnd(partition: Int32) {
        let users = state.withLock { state in state.recovery.reading(partition: partition) ? state.becameReady() : nil }
        logReady(users)
    }

    func recoveryFailed(_ reason: String) {
        state.withLock { $0.recovery.failed(reason) }
    }

    private func logReady(_ users: Int?) {
        guard let users else { return }
        logger.info("timelines rebuilt; taking posts", metadata: ["users": .stringConvertible(users)])
    }

    /// Next offset to read per partition, as consumed so far.
    var consumedPositions: [Int32: Int64] { state.withLock { $0.positions } }

    /// Forgets where the server had read in partitions whose log now ends before that
    /// (the topic was deleted and created again): their new records are new, not
    /// re-reads. Called with each second's watermarks and `readBefore`, the positions
    /// taken before they were asked for. A position taken after can be past a high
    /// watermark that has grown since, which is load, not a shorter log. The position
    /// must also not have moved since `readBefore`: a consumer reading a new log counts
    /// re-reads and stays where it was. Returns the partitions reset.
    @discardableResult
    func forgetPositionsPastEnd(_ watermarks: [Int32: (low: Int64, high: Int64)], readBefore: [Int32: Int64]) -> [Int32] {
        state.withLock { state in
            var reset: [Int32] = []
            for (partition, marks) in watermarks {
                guard let before = readBefore[partition], before > marks.high, state.positions[partition] == before else { continue }
                state.positions[partition] = marks.low
                reset.append(partition)
            }
            return reset
        }
    }

    /// The partitions' watermarks, for the partition panel.
    func setWatermarks(_ watermarks: [Int32: (low: Int64, high: Int64)]) {
        state.withLock { state in
            for (partition, marks) in watermarks { state.analyzer.setWatermarks(partition: partition, low: marks.low, high: marks.high) }
        }
    }

    // MARK: Posting

    /// `userID`'s next sequence number; nil once the user's numbers are used up.
    ///
    /// Posts are numbered and handed to the producer on the HTTP service thread, one at a
    /// time: that one thread is what makes a user's sequence order the order its records
    /// enter the producer (and, with an idempotent producer and one partition per key,
    /// log order). The lock is not held while producing.
    func nextSequence(for userID: String) -> Int64? {
        state.withLock { $0.sequences.next(for: userID) }
    }

    /// A send that failed leaves a known hole in the user's sequence.
    func sendFailed(userID: String, sequence: Int64) {
        state.withLock { state in
            state.timelines.markHole(userID: userID, sequence: sequence)
            // A hole can withdraw a gap counted as a violation: kept rankings must move
            // the user.
            state.usersVersion &+= 1
            state.changes.record(userID, at: state.usersVersion)
        }
    }

    /// A post was acknowledged at `offset` of `partition`.
    func sendSucceeded(at second: Int64, partition: Int32, offset: Int64) {
        state.withLock { state in
            state.produced.record(at: second)
            guard offset >= 0, offset < Int64.max else { return }
            state.acknowledgedEnds[partition] = max(state.acknowledgedEnds[partition] ?? 0, offset + 1)
        }
    }

    /// Posts acknowledged and not read back yet, over every partition.
    var unreadAcknowledged: Int64 {
        state.withLock { state in
            state.acknowledgedEnds.reduce(0) { sum, end in sum + max(0, end.value - (state.positions[end.key] ?? 0)) }
        }
    }

    /// Stopping: waits, up to `timeout`, until the consumer has read every post this
    /// server acknowledged, so it commits them and the timelines shown until the end
    /// have them. Those it has not read by then are read at the next start, from the
    /// committed offsets: nothing is lost either way. Blocking.
    /// - Returns: the posts still unread (0: all read).
    @discardableResult
    func waitUntilAcknowledgedRead(timeout: Duration) -> Int64 {
        let deadline = ContinuousClock.now + timeout
        while unreadAcknowledged > 0, ContinuousClock.now < deadline { usleep(5_000) }
        return unreadAcknowledged
    }

    // MARK: Consuming

    /// Applies one record as the consumer does, for a caller that needs only the
    /// timelines it builds (the replay benchmark).
    public func replay(_ record: KafkaRecord, now second: Int64) {
        _ = apply(record, now: second)
    }

    /// Ordering violations found so far.
    public var violationCount: Int { orderingReport().violations }

    /// Applies one record of `user-timeline`. Called on the consumer's thread.
    func apply(_ record: KafkaRecord, now second: Int64) -> Applied {
        // Decoded before taking the lock; only what the analyzer keeps of the key (a key
        // may be megabytes).
        let decoded = PostRecord.decode(record.value)
        let key = record.key.map { String(decoding: $0.prefix(PartitionAnalyzer.maxKeyBytes + 4), as: UTF8.self) }
        let (applied, readyUsers) = state.withLock { state -> (Applied, Int?) in
            state.usersVersion &+= 1
            guard record.offset >= (state.positions[record.partition] ?? 0) else {
                state.rereads += 1
                return (.reread, nil)
            }
            let position = record.offset + 1
            state.positions[record.partition] = position
            state.consumed.record(at: second)
            state.analyzer.record(partition: record.partition, key: key, bytes: record.value.count, second: second)
            let applied: Applied
            switch decoded {
            case .failure(let reason):
                let entry = MalformedRecord(partition: record.partition, offset: record.offset, reason: reason, bytes: record.value.count)
                state.malformed.count += 1
                state.malformed.byReason[reason, default: 0] += 1
                state.malformed.recent.append(entry)
                if state.malformed.recent.count > 50 { state.malformed.recent.removeFirst() }
                applied = .malformed(entry)
            case .success(let post):
                state.changes.record(post.userID, at: state.usersVersion)
                switch state.timelines.apply(post, partition: record.partition, offset: record.offset) {
                case .duplicate(let violation):
                    applied = .duplicate(violation)
                case .stored:
                    applied = .post(state.recent.append(post, partition: record.partition, offset: record.offset), violation: nil)
                case .storedWithViolation(let violation):
                    applied = .post(state.recent.append(post, partition: record.partition, offset: record.offset), violation: violation)
                }
            }
            // After the record is in the timelines: its sequence counts when recovery ends.
            let ready = state.recovery.advanced(partition: record.partition, to: position) ? state.becameReady() : nil
            return (applied, ready)
        }
        logReady(readyUsers)
        return applied
    }

    // MARK: Reading

    /// One user's timeline state, or nil for a user without posts.
    func user(_ userID: String) -> TimelineState.User? {
        state.withLock { $0.timelines.users[userID] }
    }

    /// What a ranking compares of every user, and the version the users are at (see
    /// ``State/usersVersion``). Small values made under the lock: a copy of the users
    /// themselves would be paid for by the consumer, which copies the whole dictionary on
    /// its next write while a reader holds it.
    func standings() -> (standings: [UsersRanking.Standing], version: UInt64) {
        state.withLock { state in
            (state.timelines.users.map(UsersRanking.Standing.init), state.usersVersion)
        }
    }

    /// The standings of the users that changed after `version`, and the version now; nil
    /// when the change log no longer reaches back that far (rank everyone again).
    func changedStandings(after version: UInt64) -> (standings: [UsersRanking.Standing], version: UInt64)? {
        state.withLock { state in
            guard let changed = state.changes.changed(after: version) else { return nil }
            let standings = changed.compactMap { key in state.timelines.users[key].map { UsersRanking.Standing((key, $0)) } }
            return (standings, state.usersVersion)
        }
    }

    /// The users named, in that order, under one lock; a name without posts is left out.
    func users(named keys: some Sequence<String>) -> [(key: String, value: TimelineState.User)] {
        state.withLock { state in
            keys.compactMap { key in state.timelines.users[key].map { (key, $0) } }
        }
    }

    /// How many users have posted.
    var userCount: Int { state.withLock { $0.timelines.users.count } }

    /// The version of the users now, without copying them.
    var usersVersion: UInt64 { state.withLock { $0.usersVersion } }
}

/// The timeline panels' reports: the few values each needs are copied under the lock,
/// the report is built after it is released.
extension TimelineService {
    func orderingReport() -> OrderingReport {
        let (counters, users, flagged, recent, log, rereads) = state.withLock { state in
            (state.timelines.counters, state.timelines.users.count, state.timelines.usersWithViolations,
             state.timelines.recentViolations, state.malformed, state.rereads)
        }
        return OrderingReport(
            counters: counters, violations: counters.violations, users: users, usersWithViolations: flagged,
            recentViolations: recent.reversed(),
            malformed: .init(
                count: log.count,
                byReason: Dictionary(uniqueKeysWithValues: log.byReason.map { ($0.key.rawValue, $0.value) }),
                recent: log.recent
            ),
            rereads: rereads
        )
    }

    func throughputReport(now second: Int64, seconds: Int = 300) -> ThroughputReport {
        let (produced, consumed) = state.withLock { ($0.produced, $0.consumed) }
        return ThroughputReport(
            windowSeconds: seconds, now: second,
            produced: produced.series(endingAt: second, seconds: seconds), consumed: consumed.series(endingAt: second, seconds: seconds),
            producedPerSecond: produced.rate(endingBefore: second), consumedPerSecond: consumed.rate(endingBefore: second)
        )
    }

    func partitionReport(now second: Int64) -> PartitionReport {
        state.withLock { $0.analyzer }.report(at: second)
    }

    func messagesSnapshot() -> MessagesSnapshot {
        let (messages, consumed, malformed) = state.withLock { ($0.recent.messages, $0.timelines.counters.checked, $0.malformed.count) }
        return MessagesSnapshot(messages: messages, consumed: consumed, malformed: malformed)
    }
}
