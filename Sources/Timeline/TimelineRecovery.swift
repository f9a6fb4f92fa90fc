/// The replay at start, as a state machine: posts are taken only once the timeline
/// consumer has its partitions and has read every partition up to where the log ended
/// when the server started. Only then are the users' last sequence numbers known, so new
/// ones never repeat one in the log.
///
/// Each event returns whether it made the timelines ready, so the caller raises the
/// sequence allocator exactly then.
public struct TimelineRecovery: Sendable {
    /// Whether posts can be taken.
    public enum Readiness: Sendable, Equatable {
        /// The log's end could not be read yet (the reason).
        case waitingForKafka(String)
        /// The consumer has not been given its partitions yet, or has not started reading
        /// each of them (librdkafka retries a partition whose leader it did not know yet
        /// after half a second: posts taken meanwhile took that long to show).
        case joiningGroup
        /// Replaying: records still to read before the end of the log at start.
        case replaying(remaining: Int64)
        case ready
    }

    /// Partition → end offset at start, for partitions not caught up yet; nil until known.
    private var pending: [Int32: Int64]?
    private var waitingReason: String?
    private var assigned = false
    /// The partitions the consumer was given (the cluster's, whatever the server was
    /// told to expect), and those it has been reading from (a record, or the end reached).
    private var partitions: Set<Int32> = []
    private var fetching: Set<Int32> = []

    public init() {}

    private var readingAll: Bool { fetching.isSuperset(of: partitions) }

    public var isReady: Bool { assigned && readingAll && pending?.isEmpty == true }

    /// Where recovery stands, given the next offset to read per partition.
    public func readiness(positions: [Int32: Int64]) -> Readiness {
        guard let pending else { return .waitingForKafka(waitingReason ?? "reading the end of user-timeline") }
        guard assigned, readingAll else { return .joiningGroup }
        if pending.isEmpty { return .ready }
        return .replaying(remaining: pending.reduce(0) { total, entry in
            let left = max(0, entry.value - (positions[entry.key] ?? 0))
            return total > .max - left ? .max : total + left
        })
    }

    /// Where the log ended at start (partition → end offset). Partitions already read
    /// that far count as caught up. Only the first call counts.
    public mutating func setTargets(ends: [Int32: Int64], positions: [Int32: Int64]) -> Bool {
        let wasReady = isReady
        if pending == nil {
            pending = ends.filter { partition, end in (positions[partition] ?? 0) < end }
        }
        return !wasReady && isReady
    }

    /// Reading the end of the log failed: the reason, until it succeeds.
    public mutating func failed(_ reason: String) {
        waitingReason = reason
    }

    /// The consumer got `partitions`: records will flow once it reads each of them.
    public mutating func partitionsAssigned(_ partitions: Set<Int32> = []) -> Bool {
        let wasReady = isReady
        assigned = true
        self.partitions.formUnion(partitions)
        return !wasReady && isReady
    }

    /// The consumer is reading `partition`: it delivered a record or reached the end.
    public mutating func reading(partition: Int32) -> Bool {
        guard !fetching.contains(partition) else { return false }
        let wasReady = isReady
        fetching.insert(partition)
        return !wasReady && isReady
    }

    /// The consumer's next offset in `partition` is now `position`.
    public mutating func advanced(partition: Int32, to position: Int64) -> Bool {
        let started = reading(partition: partition)
        guard let end = pending?[partition], position >= end else { return started }
        let wasReady = isReady
        pending?[partition] = nil
        return started || (!wasReady && isReady)
    }
}
