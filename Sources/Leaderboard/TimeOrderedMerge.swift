/// Merges records from several partitions into one order by record timestamp, so the
/// board applies them in the order they happened, not in whatever order the consumer
/// interleaved its partitions. Kafka orders records only within a partition; without
/// this a rebuild could apply team-3's records in another order than the live run did,
/// and a streak or the first unlock would differ.
///
/// A record is released only when every source either has a buffered record or has
/// reported that it is caught up (nothing more to read right now): then no record still
/// to come can be older than the oldest buffered one, as far as the sources know. Ties
/// are broken by source (in the order given to `init`), then arrival. Like Kafka
/// Streams' `max.task.idle.ms`, a source that stays silent without reporting that it
/// is caught up (its broker is away) is waited for at most ``maxIdle``; and when more
/// than ``maxBuffered`` records wait, the oldest is released regardless, so memory stays
/// bounded. Either case gives up exact order for progress.
///
/// The caller's thread owns it (a plain value).
public struct TimeOrderedMerge<Source: Hashable & Sendable, Element> {
    @usableFromInline
    struct Entry {
        @usableFromInline var time: Int64
        @usableFromInline var arrival: UInt64
        @usableFromInline var element: Element

        @inlinable
        init(time: Int64, arrival: UInt64, element: Element) {
            self.time = time
            self.arrival = arrival
            self.element = element
        }
    }

    @usableFromInline
    struct Lane {
        @usableFromInline var rank: Int
        @usableFromInline var buffer: [Entry] = []
        @usableFromInline var head = 0
        /// The source said it has nothing more to read right now.
        @usableFromInline var caughtUp = false
        /// When the lane ran empty without being caught up.
        @usableFromInline var emptySince: ContinuousClock.Instant?

        @inlinable
        init(rank: Int, emptySince: ContinuousClock.Instant? = nil) {
            self.rank = rank
            self.emptySince = emptySince
        }

        @inlinable
        var isEmpty: Bool { head == buffer.count }
    }

    // Inlinable (with its internals usable from inline code) so that callers in other
    // modules get it specialized for their types: unspecialized, generic metadata
    // look-ups took a tenth of a board rebuild.
    @usableFromInline var lanes: [Source: Lane] = [:]
    @usableFromInline var arrivals: UInt64 = 0
    @usableFromInline var buffered = 0
    public let maxIdle: Duration
    public let maxBuffered: Int

    /// - Parameter sources: every source to wait for, in tie-break order. A source not
    ///   listed is added (last in tie-break order) when its first record or catch-up
    ///   arrives.
    @inlinable
    public init(sources: [Source], maxIdle: Duration = .seconds(2), maxBuffered: Int = 100_000, now: ContinuousClock.Instant = .now) {
        for (rank, source) in sources.enumerated() { lanes[source] = Lane(rank: rank, emptySince: now) }
        self.maxIdle = maxIdle
        self.maxBuffered = maxBuffered
    }

    /// Records waiting for their turn.
    @inlinable
    public var count: Int { buffered }

    /// A record read from `source` with its timestamp (ms).
    @inlinable
    public mutating func push(_ element: Element, time: Int64, from source: Source) {
        arrivals &+= 1
        let rank = lanes.count
        lanes[source, default: Lane(rank: rank)].buffer.append(Entry(time: time, arrival: arrivals, element: element))
        lanes[source]?.caughtUp = false
        lanes[source]?.emptySince = nil
        buffered += 1
    }

    /// `source` has nothing more to read right now (end of partition).
    @inlinable
    public mutating func caughtUp(_ source: Source) {
        let rank = lanes.count
        lanes[source, default: Lane(rank: rank)].caughtUp = true
    }

    /// Starts the wait for every silent source again from `now`: for when reading
    /// (re)starts, so the time spent connecting does not count as a source's silence.
    @inlinable
    public mutating func restartIdleClocks(now: ContinuousClock.Instant = .now) {
        for index in lanes.indices where lanes.values[index].isEmpty && !lanes.values[index].caughtUp {
            lanes.values[index].emptySince = now
        }
    }

    /// The records that may be applied now, oldest first.
    @inlinable
    public mutating func release(now: ContinuousClock.Instant = .now) -> [Element] {
        var out: [Element] = []
        while buffered > 0 {
            var oldest: (source: Source, time: Int64, rank: Int, arrival: UInt64)?
            var blocked = false
            for (source, lane) in lanes {
                if lane.isEmpty {
                    if !lane.caughtUp, let since = lane.emptySince, now - since < maxIdle { blocked = true }
                    continue
                }
                let entry = lane.buffer[lane.head]
                if let best = oldest, (best.time, best.rank, best.arrival) <= (entry.time, lane.rank, entry.arrival) { continue }
                oldest = (source, entry.time, lane.rank, entry.arrival)
            }
            guard let oldest, !blocked || buffered > maxBuffered, let element = pop(oldest.source, now: now) else { break }
            out.append(element)
        }
        return out
    }

    @inlinable
    mutating func pop(_ source: Source, now: ContinuousClock.Instant) -> Element? {
        guard let index = lanes.index(forKey: source) else { return nil }
        buffered -= 1
        return lanes.values[index].pop(now: now)
    }
}

extension TimeOrderedMerge.Lane {
    /// Takes the head (the lane is not empty), in place.
    @inlinable
    mutating func pop(now: ContinuousClock.Instant) -> Element {
        let element = buffer[head].element
        head += 1
        if isEmpty {
            buffer.removeAll(keepingCapacity: true)
            head = 0
            if !caughtUp { emptySince = now }
        } else if head >= 1024, head * 2 >= buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
        return element
    }
}
