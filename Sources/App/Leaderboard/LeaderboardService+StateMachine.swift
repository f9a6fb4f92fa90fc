import Kafka
import KafkaGateway
import Leaderboard
import Timeline

extension LeaderboardService {
    /// Everything the board's service changes while it runs, as one value behind one lock.
    ///
    /// Each event is a mutating method; what it asks for (a snapshot round to write, a
    /// consumer to close) is returned and done by the caller after the lock is released.
    /// Reports rank a copy (``reportInput()``), so a reader never stalls the consumer.
    struct StateMachine {
        /// A snapshot round to write: the board, offsets and held actions taken together.
        struct SnapshotWrite: Sendable {
            var round: Int64
            var board: BoardSnapshot
            var offsets: [BoardChangelog.Offset]
            var held: [(value: [UInt8], time: Int64)]
        }

        /// What the live channels have not pushed yet.
        struct Updates: Sendable {
            /// The leaderboard session the unlocks belong to.
            var session: Int
            var unlocks: [LeaderboardState.Unlock]
            /// Whether the board changed since the last look.
            var changed: Bool
        }

        /// One team's consumer group as the last look saw it.
        struct GroupObservation: Sendable {
            var team: String
            var members: [GroupMember]?
            var state: String?
            var committed: Bool
            var lag: Int64?
        }

        private let topics: Workshop.Topics
        private(set) var board: LeaderboardState
        /// The records read but not applied yet, merged across partitions by timestamp.
        private var merge = TimeOrderedMerge<KafkaTopicPartition, KafkaRecord>(sources: [])
        private var held: HeldActions
        /// Next offset to read per input partition, as applied.
        private var positions: [KafkaTopicPartition: Int64] = [:]
        private var session = 0
        private var unlocks: [LeaderboardState.Unlock] = []
        private var changed = true
        private var schedule: SnapshotSchedule
        /// A round is being sent; another one is owed after it (`force`: even unchanged).
        private var writing = false
        private var owed: Bool?
        /// When the board was restored from a snapshot (the round's time, ms), if it was.
        private(set) var restoredFrom: Int64?
        private(set) var groupInspection = GroupInspection.notYet
        /// Team records (actions, team_stats, watchlist) applied per wall-clock second.
        private var teamRecords = RateWindows(length: 10)
        /// Input partitions not read to their end once yet; nil before reading starts.
        private var notReadToEnd: Set<KafkaTopicPartition>?
        private var inputPartitions = 0
        private(set) var producer: KafkaProducer?
        private var consumer: KafkaConsumer?
        private(set) var stopped = false

        /// Counts what the board judged, per team and outcome.
        private let metrics: ServerMetrics?

        init(workshop: Workshop, holdUnknownFor: Duration, now: ContinuousClock.Instant, metrics: ServerMetrics? = nil) {
            self.metrics = metrics
            topics = workshop.topics
            board = LeaderboardState(workshop: workshop)
            held = HeldActions(holdFor: holdUnknownFor)
            schedule = SnapshotSchedule(now: now)
        }

        // MARK: Starting and stopping

        /// Continues from a loaded round. Returns where to read each input from:
        /// `new_users` from its earliest offset (its users feed the ghost and missed
        /// checks, and the board ignores users it already knows).
        mutating func restore(_ restored: BoardChangelog.Restored, now: ContinuousClock.Instant) -> [KafkaTopicPartition: Int64] {
            board.restore(restored.board)
            restoredFrom = restored.round
            var from: [KafkaTopicPartition: Int64] = [:]
            for offset in restored.offsets where offset.topic != topics.newUsers {
                from[KafkaTopicPartition(topic: offset.topic, partition: offset.partition)] = offset.offset
            }
            positions = from
            held.restore(restored.held, now: now)
            return from
        }

        /// Reading starts: the input partitions in the merge's tie-break order, and the
        /// producer that writes snapshots.
        mutating func reading(sources: [KafkaTopicPartition], producer: KafkaProducer, now: ContinuousClock.Instant) {
            merge = TimeOrderedMerge(sources: sources, now: now)
            self.producer = producer
            notReadToEnd = Set(sources)
            inputPartitions = sources.count
        }

        /// Why the board is not loaded yet, or nil once its snapshot is restored and every
        /// input partition was read to its end once (`/readyz`).
        var loadingReason: String? {
            guard let notReadToEnd else { return "loading the board's snapshot from leaderboard_state" }
            guard notReadToEnd.isEmpty else {
                return "reading the workshop's topics: \(notReadToEnd.count) of \(inputPartitions) partitions not read to their end yet"
            }
            return nil
        }

        /// The consumer runs. False when the service stopped meanwhile: close it.
        mutating func consumerStarted(_ consumer: KafkaConsumer) -> Bool {
            guard !stopped else { return false }
            self.consumer = consumer
            return true
        }

        /// Stops: returns the consumer to close.
        mutating func stop() -> KafkaConsumer? {
            stopped = true
            defer { consumer = nil }
            return consumer
        }

        // MARK: Records

        /// A record read from the workshop's topics: applied once no partition can still
        /// deliver an older one.
        mutating func receive(_ record: KafkaRecord, now: ContinuousClock.Instant, wallClock: Int64) {
            merge.push(record, time: record.timestampMilliseconds ?? wallClock, from: KafkaTopicPartition(topic: record.topic, partition: record.partition))
            applyReleased(now: now, wallClock: wallClock)
        }

        /// A partition was read to its end: records waiting for it may go.
        mutating func caughtUp(_ partition: KafkaTopicPartition, now: ContinuousClock.Instant, wallClock: Int64) {
            notReadToEnd?.remove(partition)
            merge.caughtUp(partition)
            applyReleased(now: now, wallClock: wallClock)
        }

        /// Silent partitions are waited for from now (the consumer got its partitions).
        mutating func restartIdleClocks(now: ContinuousClock.Instant) {
            merge.restartIdleClocks(now: now)
        }

        /// Applies merged records whose wait for a silent partition is over, then judges
        /// held actions whose user arrived, and (with `force` or once held long enough)
        /// the rest.
        mutating func releaseHeld(force: Bool, now: ContinuousClock.Instant, wallClock: Int64) {
            applyReleased(now: now, wallClock: wallClock)
            judgeHeld(force: force, now: now)
        }

        private mutating func applyReleased(now: ContinuousClock.Instant, wallClock: Int64) {
            for record in merge.release(now: now) { apply(record, now: now, wallClock: wallClock) }
        }

        private mutating func apply(_ record: KafkaRecord, now: ContinuousClock.Instant, wallClock: Int64) {
            schedule.changed()
            if record.topic != topics.newUsers { teamRecords.record(at: wallClock / 1000) }
            positions[KafkaTopicPartition(topic: record.topic, partition: record.partition)] = record.offset + 1
            let time = record.timestampMilliseconds ?? wallClock
            let key = record.key.map { String(decoding: $0, as: UTF8.self) }
            switch record.topic {
            case topics.newUsers:
                if !board.userSeen(record.value, at: time) { metrics?.malformed(topic: record.topic) }
                judgeHeld(force: false, now: now)
            case topics.actions:
                if let customer = HeldActions.customer(in: record.value), !board.knows(customer) {
                    held.hold(record.value, time: time, customer: customer, now: now)
                    return
                }
                let outcome = board.action(record.value, at: time)
                metrics?.judged(topic: record.topic, outcome)
            case topics.teamStats:
                let outcome = board.teamStats(key: key, value: record.value, at: time)
                metrics?.judged(topic: record.topic, outcome)
            case topics.watchlist:
                let outcome = board.watchlist(key: key, value: record.value, at: time)
                metrics?.judged(topic: record.topic, outcome)
            default:
                return
            }
            collectUnlocks()
        }

        private mutating func judgeHeld(force: Bool, now: ContinuousClock.Instant) {
            guard !held.isEmpty else { return }
            let known = Set(held.entries.map(\.customer).filter { board.knows($0) })
            let ready = held.release(now: now, force: force) { known.contains($0) }
            guard !ready.isEmpty else { return }
            for entry in ready {
                let outcome = board.action(entry.value, at: entry.time)
                metrics?.judged(topic: topics.actions, outcome)
            }
            collectUnlocks()
        }

        private mutating func collectUnlocks() {
            let new = board.takeUnlocks()
            if !new.isEmpty {
                unlocks.append(contentsOf: new)
                schedule.changed(unlock: true)
            }
            changed = true
        }

        // MARK: Groups, reset, updates

        mutating func groupsObserved(_ observations: [GroupObservation], inspection: GroupInspection, wallClock: Int64) {
            groupInspection = inspection
            for o in observations {
                board.groupObserved(team: o.team, members: o.members?.count, assignment: o.members, state: o.state, committed: o.committed, lag: o.lag, at: wallClock)
            }
            collectUnlocks()
        }

        /// Refusals stamped with their records' own timestamps, like every record the board reads.
        mutating func keylessRefused(_ records: [RefusedRecord]) {
            for record in records {
                let team = board.keylessRefused(topic: record.topic, value: record.value, at: record.timestamp)
                metrics?.refused(topic: record.topic, team: team)
            }
            changed = true
        }

        /// Starts a new session view at `wallClock`; held actions from before it are
        /// dropped and the unlock feed starts over.
        mutating func resetSession(at wallClock: Int64) {
            board.resetSession(at: wallClock)
            held.removeAll()
            session += 1
            unlocks.removeAll()
            changed = true
            schedule.changed()
        }

        /// Takes what the live channels have not pushed yet.
        mutating func takeUpdates() -> Updates {
            defer {
                unlocks.removeAll()
                changed = false
            }
            return Updates(session: session, unlocks: unlocks, changed: changed)
        }

        /// The board to rank, copied (ranking runs after the lock is released).
        func reportInput(wallClock: Int64) -> (board: LeaderboardState, inspection: GroupInspection, restoredFrom: Int64?, recordsPerSecond: Double) {
            (board, groupInspection, restoredFrom, teamRecords.rate(endingBefore: wallClock / 1000, seconds: 5))
        }

        // MARK: Snapshots

        /// The round to write now, if one is due (or `force`d) and no other write is
        /// being sent; a round asked for during a write is owed and handed out by
        /// ``finishedSnapshot(now:wallClock:)``, so rounds reach Kafka in order.
        mutating func snapshotDue(now: ContinuousClock.Instant, wallClock: Int64, force: Bool = false) -> SnapshotWrite? {
            guard producer != nil else { return nil }
            if writing {
                owed = force || (owed ?? false)
                return nil
            }
            guard let round = schedule.due(now: now, wallClock: wallClock, force: force) else { return nil }
            writing = true
            return SnapshotWrite(
                round: round, board: board.snapshot(),
                offsets: positions.map { BoardChangelog.Offset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) },
                held: held.waiting
            )
        }

        /// The round handed out was sent: the owed one, if any.
        mutating func finishedSnapshot(now: ContinuousClock.Instant, wallClock: Int64) -> SnapshotWrite? {
            writing = false
            guard let force = owed else { return nil }
            owed = nil
            return snapshotDue(now: now, wallClock: wallClock, force: force)
        }
    }
}
