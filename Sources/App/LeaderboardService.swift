import FastJSON
import Foundation
import Kafka
import Leaderboard
import Logging
import ServerSupport
import Synchronization

/// The instructor's board: reads the workshop's topics from the earliest offset into a
/// ``LeaderboardState``, watches each team's consumer group, and runs the fake-user
/// generator.
///
/// The input partitions are merged by record timestamp (``TimeOrderedMerge``), so a
/// replay applies records in the order they were produced. A student's clock may still
/// stamp an action before the `new_users` record it names: an action for an unknown
/// customer is held until that user arrives or for ``holdUnknownFor``, then judged (a
/// ghost if the user never came).
final class LeaderboardService: Sendable {
    let workshop: Workshop
    let state: Mutex<LeaderboardState>
    /// Unlocks not yet pushed to the `achievements` channel, with the session they
    /// belong to (read together, so a reset never mixes the two sessions' feeds).
    let unlocks = Mutex(UnlockFeed())
    let changed = Atomic<Bool>(true)
    private let held = Mutex<[(value: [UInt8], time: Int64, since: ContinuousClock.Instant, customer: String)]>([])
    private let holdUnknownFor: Duration
    let generator: GeneratorControl
    let logger: Logger
    /// Next offset to read per input partition, as applied (consumer thread writes).
    let positions = Mutex<[KafkaTopicPartition: Int64]>([:])
    /// The last snapshot round written; held while a snapshot is written.
    let snapshotRounds = Mutex<Int64>(0)
    private let lastSnapshot = Mutex<(at: ContinuousClock.Instant, dirty: Bool, unlocked: Bool)>((.now, false, false))
    private let consumer = Mutex<KafkaConsumer?>(nil)
    private let stopped = Atomic<Bool>(false)
    /// The records read but not applied yet, merged across partitions by timestamp. Its
    /// lock is held while records (or held actions) are applied and while a snapshot is
    /// taken, so a snapshot's board and offsets always agree and records are applied in
    /// the merge's order whichever thread releases them.
    private let applying = Mutex(TimeOrderedMerge<KafkaTopicPartition, KafkaRecord>(sources: []))
    private let snapshotProducer = Mutex<KafkaProducer?>(nil)
    /// When the board was restored from a snapshot (the snapshot's time, ms), if it was.
    let restoredFrom = Mutex<Int64?>(nil)
    /// Whether the brokers described the teams' groups at the last look.
    let groupInspection = Mutex(GroupInspection.notYet)
    /// How often the board is written to `leaderboard_state` while records flow (and
    /// one second after an unlock).
    static let snapshotInterval: Duration = .seconds(5)

    init(workshop: Workshop, generatorRate: Double, seed: UInt64, holdUnknownFor: Duration = .seconds(3), logger: Logger) {
        self.workshop = workshop
        state = Mutex(LeaderboardState(workshop: workshop))
        generator = GeneratorControl(rate: generatorRate, seed: seed)
        self.holdUnknownFor = holdUnknownFor
        self.logger = logger
    }

    /// The workshop's topics with their partition counts (team_stats, watchlist and the
    /// board's own state compacted).
    static func topics(of workshop: Workshop) -> [KafkaTopicSpec] {
        let t = workshop.topics
        let compacted = ["cleanup.policy": "compact"]
        return [
            KafkaTopicSpec(t.newUsers, partitions: t.partitions),
            KafkaTopicSpec(t.actions, partitions: t.partitions),
            KafkaTopicSpec(t.teamStats, partitions: t.partitions, config: compacted),
            KafkaTopicSpec(t.watchlist, partitions: t.partitions, config: compacted),
            KafkaTopicSpec(t.leaderboardState, partitions: 1, config: compacted),
        ]
    }

    var inputTopics: [String] {
        [workshop.topics.newUsers, workshop.topics.actions, workshop.topics.teamStats, workshop.topics.watchlist]
    }

    /// Loads the latest snapshot (retrying while Kafka is away), then starts reading the
    /// inputs from where it left off. Returns at once: the work runs on the returned
    /// worker, which ends once the consumer runs (stopping it ends the retries).
    func start(kafka: KafkaConfiguration, admin: KafkaAdmin, producer: KafkaProducer) -> Worker {
        Worker.once(name: "leaderboard-start") { [self] worker in
            var resume: (RestoredBoard, [KafkaTopicPartition: Int64], [(value: [UInt8], time: Int64)])?
            while !worker.isStopping, !stopped.load(ordering: .relaxed) {
                do throws(KafkaError) {
                    resume = try Self.loadSnapshot(topic: workshop.topics.leaderboardState, kafka: kafka, admin: admin, logger: logger)
                    break
                } catch {
                    logger.warning("could not read the leaderboard's snapshots yet", metadata: ["kafka.error": .string(error.description)])
                    Thread.sleep(forTimeInterval: 1)
                }
            }
            guard !worker.isStopping, !stopped.load(ordering: .relaxed) else { return }
            var from: [KafkaTopicPartition: Int64] = [:]
            if let (snapshot, offsets, heldActions) = resume {
                state.withLock { $0.restore(snapshot.board) }
                restoredFrom.withLock { $0 = snapshot.round }
                // new_users is read again from its earliest offset: its users feed the
                // ghost and missed checks, and the board ignores users it already knows.
                from = offsets.filter { $0.key.topic != workshop.topics.newUsers }
                positions.withLock { $0 = from }
                held.withLock { held in held = heldActions.map { ($0.value, $0.time, .now, Self.customer(in: $0.value) ?? "") } }
                logger.info("leaderboard restored from its snapshot", metadata: ["teams": .stringConvertible(snapshot.board.teams.count)])
            }
            snapshotProducer.withLock { $0 = producer }
            let sources = inputPartitions(admin: admin)
            applying.withLock { $0 = TimeOrderedMerge(sources: sources) }
            do throws(KafkaError) {
                var reading = KafkaConsumerConfiguration(mode: .assignAll(topics: inputTopics, from: from))
                reading.reportsEndOfPartition = true
                let reader = try KafkaConsumer(configuration: kafka, consumer: reading, logger: logger)
                consumer.withLock { $0 = reader }
                reader.run { [self] event in
                    switch event {
                    case .record(let record):
                        merge(record)
                    case .endOfPartition(let partition):
                        caughtUp(partition)
                    case .assigned:
                        // Silent partitions are waited for from now, not from before
                        // the consumer connected.
                        applying.withLock { $0.restartIdleClocks() }
                    case .error(let error):
                        logger.warning("leaderboard consumer error", metadata: ["kafka.error": .string(error.description)])
                    default:
                        break
                    }
                }
            } catch {
                logger.error("could not start the leaderboard consumer", metadata: ["kafka.error": .string(error.description)])
            }
        }
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        consumer.withLock { $0 }?.close()
    }

    /// Writes a snapshot when one is due: the `leaderboard-snapshots` job, every 250 ms.
    func snapshotIfDue() {
        guard let producer = snapshotProducer.withLock({ $0 }) else { return }
        let due = lastSnapshot.withLock { last -> Bool in
            let elapsed = ContinuousClock.now - last.at
            guard last.dirty, elapsed >= Self.snapshotInterval || (last.unlocked && elapsed >= .seconds(1)) else { return false }
            last = (.now, false, false)
            return true
        }
        if due { writeSnapshot(producer: producer) }
    }

    func heldActions() -> [(value: [UInt8], time: Int64)] {
        held.withLock { $0.map { ($0.value, $0.time) } }
    }

    /// Every partition of the input topics, in the merge's tie-break order: a user
    /// before an action of the same millisecond, then actions, team_stats, watchlist.
    private func inputPartitions(admin: KafkaAdmin) -> [KafkaTopicPartition] {
        let counts = (try? admin.metadata())?.topics.reduce(into: [String: Int]()) { $0[$1.name] = $1.partitionCount } ?? [:]
        return inputTopics.flatMap { topic in
            (0..<Int32(clamping: counts[topic] ?? workshop.topics.partitions)).map { KafkaTopicPartition(topic: topic, partition: $0) }
        }
    }

    /// A record read from the workshop's topics: applied once no partition can still
    /// deliver an older one. Called on the leaderboard consumer's thread.
    func merge(_ record: KafkaRecord) {
        applying.withLock { merge in
            merge.push(record, time: record.timestampMilliseconds ?? currentMilliseconds(), from: KafkaTopicPartition(topic: record.topic, partition: record.partition))
            applyReleased(&merge)
        }
    }

    /// A partition was read to its end: records waiting for it may go.
    func caughtUp(_ partition: KafkaTopicPartition) {
        applying.withLock { merge in
            merge.caughtUp(partition)
            applyReleased(&merge)
        }
    }

    /// Applies what `merge` lets go now, in its order. Under the `applying` lock.
    private func applyReleased(_ merge: inout TimeOrderedMerge<KafkaTopicPartition, KafkaRecord>) {
        for ready in merge.release() { applyLocked(ready) }
    }

    private func applyLocked(_ record: KafkaRecord) {
        lastSnapshot.withLock { $0.dirty = true }
        positions.withLock { $0[KafkaTopicPartition(topic: record.topic, partition: record.partition)] = record.offset + 1 }
        let time = record.timestampMilliseconds ?? currentMilliseconds()
        let topics = workshop.topics
        let key = record.key.map { String(decoding: $0, as: UTF8.self) }
        switch record.topic {
        case topics.newUsers:
            state.withLock { $0.userSeen(record.value, at: time) }
            releaseHeldLocked(force: false)
        case topics.actions:
            if let customer = Self.customer(in: record.value), !state.withLock({ $0.knows(customer) }) {
                held.withLock { $0.append((record.value, time, .now, customer)) }
                return
            }
            _ = state.withLock { $0.action(record.value, at: time) }
        case topics.teamStats:
            _ = state.withLock { $0.teamStats(key: key, value: record.value, at: time) }
        case topics.watchlist:
            _ = state.withLock { $0.watchlist(key: key, value: record.value, at: time) }
        default:
            return
        }
        collectUnlocks()
    }

    /// Applies merged records whose wait for a silent partition is over, then judges
    /// held actions whose user arrived, and (with `force` or once held long enough) the
    /// rest.
    func releaseHeld(force: Bool) {
        applying.withLock { merge in
            applyReleased(&merge)
            releaseHeldLocked(force: force)
        }
    }

    private func releaseHeldLocked(force: Bool) {
        let ready: [(value: [UInt8], time: Int64)] = held.withLock { held in
            guard !held.isEmpty else { return [] }
            let known = state.withLock { state in held.map { state.knows($0.customer) } }
            var release: [(value: [UInt8], time: Int64)] = []
            var keep: [(value: [UInt8], time: Int64, since: ContinuousClock.Instant, customer: String)] = []
            for (index, entry) in held.enumerated() {
                if known[index] || force || ContinuousClock.now - entry.since >= holdUnknownFor {
                    release.append((entry.value, entry.time))
                } else {
                    keep.append(entry)
                }
            }
            held = keep
            return release
        }
        guard !ready.isEmpty else { return }
        state.withLock { state in
            for entry in ready { state.action(entry.value, at: entry.time) }
        }
        collectUnlocks()
    }

    private func collectUnlocks() {
        let new = state.withLock { $0.takeUnlocks() }
        if !new.isEmpty {
            unlocks.withLock { $0.pending.append(contentsOf: new) }
            lastSnapshot.withLock { $0.unlocked = true }
        }
        changed.store(true, ordering: .relaxed)
    }

    /// What each team's consumer group shows: state, members and their partitions where
    /// the brokers can describe groups, and on every broker the committed offsets on
    /// new_users and the lag they leave. Blocking: call from the monitor.
    /// `describer` replaces the admin client's group description (tests: the embedded
    /// cluster cannot describe groups).
    func observeGroups(admin: KafkaAdmin, describer: (any GroupDescriber)? = nil) {
        let topic = workshop.topics.newUsers
        let partitions = (0..<Int32(workshop.topics.partitions)).map { KafkaTopicPartition(topic: topic, partition: $0) }
        guard let marks = try? admin.watermarks(topic: topic, partitionCount: partitions.count, timeout: .seconds(1)) else { return }
        let highs = Dictionary(uniqueKeysWithValues: marks.map { (KafkaTopicPartition(topic: topic, partition: $0.key), $0.value.high) })
        var listing: KafkaGroupListing?
        do throws(KafkaError) {
            listing = try (describer ?? admin).describeGroups(timeout: .seconds(1))
            groupInspection.withLock { $0 = .described }
        } catch {
            groupInspection.withLock { $0 = error.code == .unsupported ? .unsupported(error.message) : .failed(error.message) }
        }
        let described = Dictionary((listing?.groups ?? []).map { ($0.group, $0) }) { first, _ in first }
        var observations: [(team: String, members: [GroupMember]?, state: String?, committed: Bool, lag: Int64?)] = []
        for team in workshop.teams {
            guard let committed = try? admin.committedOffsets(group: team.name, partitions: partitions, timeout: .seconds(1)) else { continue }
            let lag: Int64? = committed.isEmpty ? nil : committed.reduce(0) { $0 + max(0, (highs[$1.key] ?? $1.value) - $1.value) }
            if let group = described[team.name] {
                let members = group.members.map { member in
                    GroupMember(clientID: member.clientID, host: member.host, partitions: member.assignment.filter { $0.topic == topic }.map(\.partition))
                }
                observations.append((team.name, members, group.state, !committed.isEmpty, lag))
            } else if listing?.isKnownAbsent(team.name) == true {
                // Listed by every broker and not there: no members right now.
                observations.append((team.name, [], "Empty", !committed.isEmpty, lag))
            } else {
                // Not described (the broker cannot, or its coordinator did not answer).
                observations.append((team.name, nil, nil, !committed.isEmpty, lag))
            }
        }
        let now = currentMilliseconds()
        // Under the applying lock, like records: a reset cannot fall between an
        // observation and the unlocks it earned.
        applying.withLock { _ in
            state.withLock { state in
                for o in observations {
                    state.groupObserved(team: o.team, members: o.members?.count, assignment: o.members, state: o.state, committed: o.committed, lag: o.lag, at: now)
                }
            }
            collectUnlocks()
        }
    }

    func report() -> LeaderboardReport {
        let inspection = groupInspection.withLock { $0 }
        var report = state.withLock { $0.report(now: currentMilliseconds(), groupInspection: inspection.description(newUsers: workshop.topics.newUsers)) }
        report.groupsDescribed = inspection == .described
        report.restoredFromSnapshotAt = restoredFrom.withLock { $0 }
        return report
    }

    /// Starts a new session view now (see ``LeaderboardState/resetSession(at:)``) and
    /// writes a snapshot at once, so a restart keeps the reset. Held actions from before
    /// it are dropped. Returns the session's start (ms). Blocking (waits for records being
    /// applied): call from a queue, not the HTTP thread.
    func resetSession() -> Int64 {
        let now = currentMilliseconds()
        applying.withLock { _ in
            state.withLock { $0.resetSession(at: now) }
            held.withLock { $0.removeAll() }
            unlocks.withLock { $0 = UnlockFeed(session: $0.session + 1) }
        }
        changed.store(true, ordering: .relaxed)
        if let producer = snapshotProducer.withLock({ $0 }) {
            lastSnapshot.withLock { $0 = (.now, false, false) }
            writeSnapshot(producer: producer)
        }
        logger.info("leaderboard session reset", metadata: ["session_started_at": .stringConvertible(now)])
        return now
    }

    /// Runs `body` with the board, its offsets and held actions in agreement.
    func consistent<R>(_ body: () -> R) -> R {
        applying.withLock { _ in body() }
    }

    static func customer(in value: [UInt8]) -> String? {
        guard let fields = FlatJSON.parseObject(value), case .string(let customer) = fields["customer"], !customer.isEmpty else { return nil }
        return customer
    }
}

/// Who answers "which consumer groups exist, with which members": the admin client, or
/// in tests a stand-in for a broker that can describe groups.
protocol GroupDescriber: Sendable {
    func describeGroups(timeout: Duration) throws(KafkaError) -> KafkaGroupListing
}

extension KafkaAdmin: GroupDescriber {}

/// Unlocks waiting for the `achievements` channel, and the session they belong to.
struct UnlockFeed: Sendable {
    var session = 0
    var pending: [LeaderboardState.Unlock] = []
}

/// What the board could learn about the teams' consumer groups at its last look.
enum GroupInspection: Sendable, Equatable {
    case notYet
    case described
    /// The brokers cannot list or describe groups (the embedded cluster cannot).
    case unsupported(String)
    /// The last attempt failed (timed out, broker away); the next one may work.
    case failed(String)

    func description(newUsers: String) -> String {
        let fallback = "connected means the team's group committed offsets on \(newUsers); members unknown"
        switch self {
        case .notYet: return "not looked at yet"
        case .described: return "described every second by the group coordinator (state, members, partitions)"
        case .unsupported(let reason): return "not supported by this broker (\(reason)): \(fallback)"
        case .failed(let reason): return "the last description failed (\(reason)): \(fallback)"
        }
    }
}

/// The generator's settings, changed at runtime by the instructor.
final class GeneratorControl: Sendable {
    struct Settings: Sendable, Codable, Equatable {
        var rate: Double
        var paused: Bool
        var produced: Int
    }

    let settings: Mutex<Settings>
    let users: Mutex<UserGenerator>

    init(rate: Double, seed: UInt64) {
        settings = Mutex(Settings(rate: rate, paused: rate <= 0, produced: 0))
        users = Mutex(UserGenerator(seed: seed))
    }
}
