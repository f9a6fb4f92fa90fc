import Foundation
import Kafka
import Logging
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
/// replay has reached the end of the log as it was at start: only then are the users'
/// last sequence numbers known and new ones never repeat.
final class TimelineService: Sendable {
    /// Whether posts can be taken.
    enum Readiness: Sendable, Equatable {
        /// The log's end could not be read yet.
        case waitingForKafka(String)
        /// The consumer has not been given its partitions yet (the group is forming).
        case joiningGroup
        /// Replaying: records still to read before the end of the log at start.
        case replaying(remaining: Int64)
        case ready
    }

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

    private struct Recovery {
        /// Partition → end offset at start, for partitions not caught up yet.
        var pending: [Int32: Int64]?
        var waitingReason: String?
        var assigned = false
    }

    /// The group the timeline consumer commits under: one per server instance, so two
    /// servers on one cluster, or a student's consumer, never share its offsets.
    static func groupID(instance: String) -> String { "timeline-consumer-group-\(instance)" }

    let partitionCount: Int
    let state: Mutex<TimelineState>
    let analyzer: Mutex<PartitionAnalyzer>
    let produced = Mutex(RateWindows())
    let consumed = Mutex(RateWindows())
    let malformed = Mutex(MalformedLog())
    let recent: RecentPosts
    /// Highest sequence number handed out per user (running ahead of consumption).
    private let sequences = Mutex<[String: Int64]>([:])
    private let recovery = Mutex(Recovery())
    private let logger: Logger

    init(partitionCount: Int, timelineCapacity: Int, recentMessages: Int, logger: Logger) {
        self.partitionCount = partitionCount
        state = Mutex(TimelineState(capacity: timelineCapacity))
        analyzer = Mutex(PartitionAnalyzer(partitionCount: partitionCount))
        recent = RecentPosts(capacity: recentMessages)
        self.logger = logger
    }

    // MARK: Recovery

    var readiness: Readiness {
        recovery.withLock { recovery in
            guard let pending = recovery.pending else {
                return .waitingForKafka(recovery.waitingReason ?? "reading the end of user-timeline")
            }
            guard recovery.assigned else { return .joiningGroup }
            if pending.isEmpty { return .ready }
            let positions = consumedPositions
            return .replaying(remaining: pending.reduce(0) { $0 + max(0, $1.value - (positions[$1.key] ?? 0)) })
        }
    }

    /// Learns where the log ended at start (blocking; retried by the caller until it
    /// succeeds). Partitions already consumed that far, or empty, count as caught up.
    func setRecoveryTargets(from admin: KafkaAdmin, topic: String) throws(KafkaError) {
        let targets = try admin.watermarks(topic: topic, partitionCount: partitionCount)
            .filter { $0.value.high > $0.value.low }.mapValues(\.high)
        let positions = consumedPositions
        recovery.withLock { recovery in
            guard recovery.pending == nil else { return }
            recovery.pending = targets.filter { partition, end in (positions[partition] ?? 0) < end }
        }
        finishRecoveryIfDone()
    }

    /// The timeline consumer got partitions: records will flow.
    func partitionsAssigned() {
        let first = recovery.withLock { recovery in
            defer { recovery.assigned = true }
            return !recovery.assigned
        }
        if first { finishRecoveryIfDone() }
    }

    func recoveryFailed(_ reason: String) {
        recovery.withLock { $0.waitingReason = reason }
    }

    private let positions = Mutex<[Int32: Int64]>([:])

    /// Next offset to read per partition, as consumed so far.
    var consumedPositions: [Int32: Int64] { positions.withLock { $0 } }

    private func advance(partition: Int32, offset: Int64) {
        positions.withLock { $0[partition] = max($0[partition] ?? 0, offset + 1) }
        let caughtUp = recovery.withLock { recovery -> Bool in
            guard var pending = recovery.pending, let end = pending[partition], offset + 1 >= end else { return false }
            pending[partition] = nil
            recovery.pending = pending
            return pending.isEmpty
        }
        if caughtUp { finishRecoveryIfDone() }
    }

    private func finishRecoveryIfDone() {
        guard readiness == .ready else { return }
        let last = state.withLock { $0.lastSequences }
        sequences.withLock { sequences in
            for (user, sequence) in last where sequence > (sequences[user] ?? 0) {
                sequences[user] = sequence
            }
        }
        logger.info("timelines rebuilt; taking posts", metadata: ["users": .stringConvertible(last.count)])
    }

    // MARK: Posting

    /// Runs `produce` with `userID`'s next sequence number, under the lock that hands
    /// sequence numbers out, so that for each user sequence order is the order records
    /// enter the producer (and, with an idempotent producer and one partition per key,
    /// log order). `produce` must not block. Nil, without calling `produce`, once the
    /// user's numbers are used up (a record someone produced set them near
    /// ``PostRecord/maxSequence``): a post numbered past it would be refused on read.
    func withNextSequence<R>(for userID: String, _ produce: (Int64) -> R) -> R? {
        sequences.withLock { sequences in
            let next = (sequences[userID] ?? 0) + 1
            guard next <= PostRecord.maxSequence else { return nil }
            sequences[userID] = next
            return produce(next)
        }
    }

    /// A send that failed leaves a known hole in the user's sequence.
    func sendFailed(userID: String, sequence: Int64) {
        state.withLock { $0.markHole(userID: userID, sequence: sequence) }
    }

    func sendSucceeded(at second: Int64) {
        produced.withLock { $0.record(at: second) }
    }

    // MARK: Consuming

    /// What one consumed record did, for the live channels.
    enum Applied {
        case post(RecentPosts.Message, violation: OrderingViolation?)
        case duplicate(OrderingViolation)
        case malformed(MalformedRecord)
        /// The same partition and offset read again (the consumer went back after a
        /// broker failover): already applied, skipped.
        case reread
    }

    /// Records read again at an offset already applied: not duplicates of a post (the
    /// log holds it once), just the consumer fetching it twice.
    let rereads = Mutex(0)

    /// Forgets where the server had read in partitions whose log now ends before that
    /// (the topic was deleted and created again): their new records are new, not
    /// re-reads. Called with each second's watermarks; returns the partitions reset.
    @discardableResult
    func forgetPositionsPastEnd(_ watermarks: [Int32: (low: Int64, high: Int64)]) -> [Int32] {
        positions.withLock { positions in
            var reset: [Int32] = []
            for (partition, marks) in watermarks where (positions[partition] ?? 0) > marks.high {
                positions[partition] = marks.low
                reset.append(partition)
            }
            return reset
        }
    }

    /// The partitions' watermarks, for the partition panel.
    func setWatermarks(_ watermarks: [Int32: (low: Int64, high: Int64)]) {
        analyzer.withLock { analyzer in
            for (partition, marks) in watermarks { analyzer.setWatermarks(partition: partition, low: marks.low, high: marks.high) }
        }
    }

    /// Applies one record of `user-timeline`. Called on the consumer's thread.
    func apply(_ record: KafkaRecord, now second: Int64) -> Applied {
        let alreadyApplied = positions.withLock { record.offset < ($0[record.partition] ?? 0) }
        if alreadyApplied {
            rereads.withLock { $0 += 1 }
            return .reread
        }
        defer { advance(partition: record.partition, offset: record.offset) }
        consumed.withLock { $0.record(at: second) }
        // Only what the analyzer keeps is decoded (a key may be megabytes).
        let key = record.key.map { String(decoding: $0.prefix(PartitionAnalyzer.maxKeyBytes + 4), as: UTF8.self) }
        analyzer.withLock { $0.record(partition: record.partition, key: key, bytes: record.value.count, second: second) }
        switch PostRecord.decode(record.value) {
        case .failure(let reason):
            let entry = MalformedRecord(partition: record.partition, offset: record.offset, reason: reason, bytes: record.value.count)
            malformed.withLock { log in
                log.count += 1
                log.byReason[reason, default: 0] += 1
                log.recent.append(entry)
                if log.recent.count > 50 { log.recent.removeFirst() }
            }
            return .malformed(entry)
        case .success(let post):
            let outcome = state.withLock { $0.apply(post, partition: record.partition, offset: record.offset) }
            switch outcome {
            case .duplicate(let violation):
                return .duplicate(violation)
            case .stored, .storedWithViolation:
                let message = recent.append(post, partition: record.partition, offset: record.offset)
                if case .storedWithViolation(let violation) = outcome { return .post(message, violation: violation) }
                return .post(message, violation: nil)
            }
        }
    }
}
