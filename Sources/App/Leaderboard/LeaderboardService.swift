import Kafka
import KafkaGateway
import Leaderboard
import Logging
import ServerSupport
import Synchronization

/// The instructor's board: reads the workshop's topics from the earliest offset (or its
/// last snapshot's offsets) into a ``LeaderboardState``, watches each team's consumer
/// group, and writes the board's changelog.
///
/// The input partitions are merged by record timestamp (``TimeOrderedMerge``), so a
/// replay applies records in the order they were produced; an action for a customer not
/// seen yet is held (``HeldActions``). All of it is one ``StateMachine`` behind one lock;
/// Kafka calls and ranking run after the lock is released.
final class LeaderboardService: Sendable {
    let workshop: Workshop
    private let state: Mutex<StateMachine>
    let logger: Logger

    /// Lag per team group and partition; the state machine counts records judged.
    private let metrics: ServerMetrics?

    init(workshop: Workshop, holdUnknownFor: Duration = .seconds(3), metrics: ServerMetrics? = nil, logger: Logger) {
        self.workshop = workshop
        state = Mutex(StateMachine(workshop: workshop, holdUnknownFor: holdUnknownFor, now: .now, metrics: metrics))
        self.metrics = metrics
        self.logger = logger
    }

    /// The workshop's topics with their partition counts: new_users and actions keep one
    /// hour, as the tutorial's cluster does; team_stats, watchlist and the board's own
    /// state are compacted.
    static func topics(of workshop: Workshop) -> [KafkaTopicSpec] {
        let t = workshop.topics
        let compacted = ["cleanup.policy": "compact"]
        let hour = ["retention.ms": "3600000"]
        return [
            KafkaTopicSpec(t.newUsers, partitions: t.partitions, config: hour),
            KafkaTopicSpec(t.actions, partitions: t.partitions, config: hour),
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
            var loaded: BoardChangelog.Loaded?
            while !worker.isStopping, !state.withLock({ $0.stopped }) {
                do throws(KafkaError) {
                    loaded = try Self.loadSnapshot(topic: workshop.topics.leaderboardState, kafka: kafka, admin: admin, logger: logger)
                    break
                } catch {
                    logger.warning("could not read the leaderboard's snapshots yet", metadata: ["kafka.error": .string(error.description)])
                    worker.sleep(for: .seconds(1))
                }
            }
            guard !worker.isStopping, !state.withLock({ $0.stopped }) else { return }
            var from: [KafkaTopicPartition: Int64] = [:]
            switch loaded {
            case .restored(let restored):
                from = state.withLock { $0.restore(restored, now: .now) }
                logger.info("leaderboard restored from its snapshot", metadata: ["teams": .stringConvertible(restored.board.teams.count)])
            case .rejected(let reason, let round):
                logger.warning("ignoring a leaderboard snapshot that cannot be the board's", metadata: ["reason": .string(reason), "round": .stringConvertible(round)])
            case .some(.none), nil:
                break
            }
            let sources = inputPartitions(admin: admin)
            state.withLock { $0.reading(sources: sources, producer: producer, now: .now) }
            do throws(KafkaError) {
                var reading = KafkaConsumerConfiguration(mode: .assignAll(topics: inputTopics, from: from))
                reading.reportsEndOfPartition = true
                let reader = try KafkaConsumer(configuration: kafka, consumer: reading, logger: logger)
                guard state.withLock({ $0.consumerStarted(reader) }) else {
                    reader.close()
                    return
                }
                reader.run { [self] event in
                    switch event {
                    case .record(let record):
                        state.withLock { $0.receive(record, now: .now, wallClock: currentMilliseconds()) }
                    case .endOfPartition(let partition):
                        state.withLock { $0.caughtUp(partition, now: .now, wallClock: currentMilliseconds()) }
                    case .assigned:
                        // Silent partitions are waited for from now, not from before
                        // the consumer connected.
                        state.withLock { $0.restartIdleClocks(now: .now) }
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

    /// Stops reading (blocking: the consumer closes).
    func stop() {
        state.withLock { $0.stop() }?.close()
    }

    /// Writes a snapshot round when one is due (or `force`d): the `leaderboard-snapshots`
    /// job, every 250 ms, and a session reset.
    func snapshotIfDue(force: Bool = false) {
        var write = state.withLock { $0.snapshotDue(now: .now, wallClock: currentMilliseconds(), force: force) }
        while let round = write {
            if let producer = state.withLock({ $0.producer }) { send(round, producer: producer) }
            write = state.withLock { $0.finishedSnapshot(now: .now, wallClock: currentMilliseconds()) }
        }
    }

    /// Every partition of the input topics, in the merge's tie-break order: a user
    /// before an action of the same millisecond, then actions, team_stats, watchlist.
    private func inputPartitions(admin: KafkaAdmin) -> [KafkaTopicPartition] {
        let counts = (try? admin.metadata())?.topics.reduce(into: [String: Int]()) { $0[$1.name] = $1.partitionCount } ?? [:]
        return inputTopics.flatMap { topic in
            (0..<Int32(clamping: counts[topic] ?? workshop.topics.partitions)).map { KafkaTopicPartition(topic: topic, partition: $0) }
        }
    }

    /// Applies merged records whose wait for a silent partition is over and judges the
    /// held actions that may go: the `leaderboard-publisher` job, every 250 ms.
    func releaseHeld(force: Bool) {
        state.withLock { $0.releaseHeld(force: force, now: .now, wallClock: currentMilliseconds()) }
    }

    /// What each team's consumer group shows: state, members and their partitions where
    /// the brokers can describe groups, and on every broker the committed offsets on
    /// new_users and the lag they leave. Blocking: call from the monitor.
    /// `describer` replaces the admin client's group description (tests: the embedded
    /// cluster cannot describe groups). `stopping` ends the look between two teams: each
    /// asks Kafka, which may take a second when it is slow, and a stop must not wait 15.
    func observeGroups(admin: KafkaAdmin, describer: (any GroupDescriber)? = nil, stopping: () -> Bool = { false }) {
        let topic = workshop.topics.newUsers
        let partitions = (0..<Int32(workshop.topics.partitions)).map { KafkaTopicPartition(topic: topic, partition: $0) }
        guard let marks = try? admin.watermarks(topic: topic, partitionCount: partitions.count, timeout: .seconds(1)) else { return }
        let highs = Dictionary(uniqueKeysWithValues: marks.map { (KafkaTopicPartition(topic: topic, partition: $0.key), $0.value.high) })
        var listing: KafkaGroupListing?
        let inspection: GroupInspection
        do throws(KafkaError) {
            let source = describer ?? admin
            listing = try source.describeGroups(timeout: .seconds(1))
            inspection = source.observesTraffic ? .observed : .described
        } catch {
            inspection = error.code == .unsupported ? .unsupported(error.message) : .failed(error.message)
        }
        let described = Dictionary((listing?.groups ?? []).map { ($0.group, $0) }) { first, _ in first }
        var observations: [StateMachine.GroupObservation] = []
        for team in workshop.teams {
            if stopping() { return }
            guard let committed = try? admin.committedOffsets(group: team.name, partitions: partitions, timeout: .seconds(1)) else { continue }
            for (partition, offset) in committed {
                metrics?.consumerLag(group: team.name, topic: topic, partition: partition.partition, lag: max(0, (highs[partition] ?? offset) - offset))
            }
            let lag: Int64? = committed.isEmpty ? nil : committed.reduce(0) { $0 + max(0, (highs[$1.key] ?? $1.value) - $1.value) }
            if let group = described[team.name] {
                let members = group.members.map { member in
                    GroupMember(clientID: member.clientID, host: member.host, partitions: member.assignment.filter { $0.topic == topic }.map(\.partition))
                }
                observations.append(.init(team: team.name, members: members, state: group.state, committed: !committed.isEmpty, lag: lag))
            } else if listing?.isKnownAbsent(team.name) == true {
                // Listed by every broker and not there: no members right now.
                observations.append(.init(team: team.name, members: [], state: "Empty", committed: !committed.isEmpty, lag: lag))
            } else {
                // Not described (the broker cannot, or its coordinator did not answer).
                observations.append(.init(team: team.name, members: nil, state: nil, committed: !committed.isEmpty, lag: lag))
            }
        }
        state.withLock { $0.groupsObserved(observations, inspection: inspection, wallClock: currentMilliseconds()) }
    }

    /// Why the board is not loaded yet (its snapshot, then its topics read to their end
    /// once), or nil: `/readyz` waits for it.
    var loadingReason: String? {
        state.withLock { $0.loadingReason }
    }

    /// Records the Kafka gateway refused for a missing key: shown on their teams' rows.
    func keylessRefused(_ records: [RefusedRecord], dropped: Int) {
        state.withLock { $0.keylessRefused(records) }
        if dropped > 0 {
            logger.warning("keyless records refused faster than the board takes them: some not shown", metadata: ["dropped": .stringConvertible(dropped)])
        }
    }

    /// The ranked board, ranked from a copy after the lock is released.
    func report() -> LeaderboardReport {
        let now = currentMilliseconds()
        let (board, inspection, restoredFrom, recordsPerSecond) = state.withLock { $0.reportInput(wallClock: now) }
        var report = board.report(now: now, groupInspection: inspection.description(newUsers: workshop.topics.newUsers))
        report.recordsPerSecond = recordsPerSecond
        report.groupsDescribed = inspection == .described || inspection == .observed
        report.restoredFromSnapshotAt = restoredFrom
        return report
    }

    /// One team's standing, or nil for a team the workshop does not have.
    func team(named name: String) -> TeamState? {
        state.withLock { $0.board.teams[name] }
    }

    /// The latest `team_stats` and `watchlist` records per key, and the companies
    /// watchlisted.
    func keyedViews() -> (teamStats: [String: LeaderboardState.KeyedValue], watchlist: [String: LeaderboardState.KeyedValue], watchlisted: [String]) {
        state.withLock { ($0.board.latestTeamStats, $0.board.latestWatchlist, $0.board.watchlistedCompanies) }
    }

    /// What the live channels have not pushed yet: new unlocks (with their session) and
    /// whether the board changed.
    func takeUpdates() -> StateMachine.Updates {
        state.withLock { $0.takeUpdates() }
    }

    /// Starts a new session view now (see ``LeaderboardState/resetSession(at:)``) and
    /// writes a snapshot round at once, so a restart keeps the reset. Returns the
    /// session's start (ms).
    func resetSession() -> Int64 {
        let now = currentMilliseconds()
        state.withLock { $0.resetSession(at: now) }
        snapshotIfDue(force: true)
        logger.info("leaderboard session reset", metadata: ["session_started_at": .stringConvertible(now)])
        return now
    }
}

/// Who answers "which consumer groups exist, with which members": the admin client, or
/// in tests a stand-in for a broker that can describe groups.
protocol GroupDescriber: Sendable {
    func describeGroups(timeout: Duration) throws(KafkaError) -> KafkaGroupListing
    /// Whether the groups are seen in the traffic passing (the gateway) rather than asked
    /// of the coordinator.
    var observesTraffic: Bool { get }
}

extension GroupDescriber {
    var observesTraffic: Bool { false }
}

extension KafkaAdmin: GroupDescriber {}

/// On the embedded cluster, which cannot describe its groups, the gateway in front of it
/// sees every group's joins, syncs and heartbeats pass.
extension KafkaGateway: GroupDescriber {
    func describeGroups(timeout: Duration) throws(KafkaError) -> KafkaGroupListing { groupListing() }
    var observesTraffic: Bool { true }
}

/// What the board could learn about the teams' consumer groups at its last look.
enum GroupInspection: Sendable, Equatable {
    case notYet
    case described
    /// Seen in the traffic through the Kafka gateway (the embedded cluster).
    case observed
    /// The brokers cannot list or describe groups (the embedded cluster cannot).
    case unsupported(String)
    /// The last attempt failed (timed out, broker away); the next one may work.
    case failed(String)

    func description(newUsers: String) -> String {
        let fallback = "connected means the team's group committed offsets on \(newUsers); members unknown"
        switch self {
        case .notYet: return "not looked at yet"
        case .described: return "described every second by the group coordinator (state, members, partitions)"
        case .observed: return "groups observed by the gateway: members, their hosts and partitions, as the clients' joins, syncs and heartbeats pass"
        case .unsupported(let reason): return "not supported by this broker (\(reason)): \(fallback)"
        case .failed(let reason): return "the last description failed (\(reason)): \(fallback)"
        }
    }
}
