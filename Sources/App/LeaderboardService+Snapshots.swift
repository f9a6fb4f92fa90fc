import FastJSON
import Foundation
import Kafka
import Leaderboard
import Logging
import Synchronization

/// The board's changelog, as Kafka Streams keeps one: every few seconds (and soon after
/// an unlock) the board is written to the compacted topic `leaderboard_state`, one
/// record per team (key = team) and a `_board` record (key `_board`) with the rest and
/// the input offsets the snapshot covers, written last. On start the latest complete
/// snapshot is loaded and the inputs are read from those offsets (`new_users` from its
/// earliest: its users are needed for ghost checks), or everything from the earliest
/// where there is no snapshot.
struct LeaderboardSnapshotRecord: Codable, Sendable {
    struct Offset: Codable, Sendable, Hashable {
        var topic: String
        var partition: Int32
        /// The next offset to read.
        var offset: Int64
    }

    struct HeldAction: Codable, Sendable {
        var value: String
        var time: Int64
    }

    var round: Int64
    var team: TeamState?
    var offsets: [Offset]?
    var held: [HeldAction]?
    var unknownTeamActions: Int?
    var latestTeamStats: [String: LeaderboardState.KeyedValue]?
    var latestWatchlist: [String: LeaderboardState.KeyedValue]?
    var sessionStartedAt: Int64?

    static let boardKey = "_board"

    enum CodingKeys: String, CodingKey {
        case round, team, offsets, held
        case unknownTeamActions = "unknown_team_actions"
        case latestTeamStats = "latest_team_stats"
        case latestWatchlist = "latest_watchlist"
        case sessionStartedAt = "session_started_at"
    }
}

extension LeaderboardService {
    /// Reads `leaderboard_state` to its end and returns the latest complete snapshot:
    /// the board, the offsets to continue from, and the actions that were held.
    /// Blocking (a few seconds at most on a reachable cluster).
    static func loadSnapshot(topic: String, kafka: KafkaConfiguration, admin: KafkaAdmin, logger: Logger) throws(KafkaError) -> (RestoredBoard, [KafkaTopicPartition: Int64], [(value: [UInt8], time: Int64)])? {
        let metadata = try admin.metadata()
        guard let partitions = metadata.topics.first(where: { $0.name == topic })?.partitionCount, partitions > 0 else { return nil }
        let ends = try admin.watermarks(topic: topic, partitionCount: partitions)
            .filter { $0.value.high > $0.value.low }.mapValues(\.high)
        guard !ends.isEmpty else { return nil }
        let latest = Mutex<[String: LeaderboardSnapshotRecord]>([:])
        let remaining = Mutex(ends)
        let consumer = try KafkaConsumer(configuration: kafka, consumer: .init(mode: .assignAllFromEarliest(topics: [topic])), logger: logger)
        consumer.run { event in
            guard case .record(let record) = event else { return }
            if let key = record.key.map({ String(decoding: $0, as: UTF8.self) }),
               let decoded = try? JSONCoding.decoder.decode(LeaderboardSnapshotRecord.self, from: Data(record.value)) {
                latest.withLock { $0[key] = decoded }
            }
            remaining.withLock { remaining in
                if let end = remaining[record.partition], record.offset + 1 >= end { remaining[record.partition] = nil }
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while !remaining.withLock({ $0.isEmpty }), ContinuousClock.now < deadline { usleep(10_000) }
        consumer.close()
        let records = latest.withLock { $0 }
        guard let board = records[LeaderboardSnapshotRecord.boardKey], let offsets = board.offsets else { return nil }
        var teams: [String: TeamState] = [:]
        for (key, record) in records where key != LeaderboardSnapshotRecord.boardKey {
            // Only the round the _board record closes: a round cut short is skipped.
            guard record.round == board.round, let team = record.team else { continue }
            teams[key] = team
        }
        let snapshot = BoardSnapshot(
            teams: teams, unknownTeamActions: board.unknownTeamActions ?? 0,
            latestTeamStats: board.latestTeamStats ?? [:], latestWatchlist: board.latestWatchlist ?? [:],
            sessionStartedAt: board.sessionStartedAt
        )
        if let problem = snapshot.validationError(now: currentMilliseconds()) {
            // Forged or corrupt: rebuild from the topics rather than trust it.
            logger.warning("ignoring a leaderboard snapshot that cannot be the board's", metadata: ["reason": .string(problem), "round": .stringConvertible(board.round)])
            return nil
        }
        let from = Dictionary(offsets.map { (KafkaTopicPartition(topic: $0.topic, partition: $0.partition), $0.offset) }) { $1 }
        let held = (board.held ?? []).map { (value: Array($0.value.utf8), time: $0.time) }
        return (RestoredBoard(board: snapshot, round: board.round), from, held)
    }

    /// Writes a snapshot now: the board, the offsets and the held actions, taken together.
    /// One write at a time, rounds strictly increasing: two writers' records interleaved
    /// (a reset's and a periodic one) could otherwise leave a `_board` record closing a
    /// round whose team records were overwritten.
    func writeSnapshot(producer: KafkaProducer) {
        snapshotRounds.withLock { lastRound in
            let round = max(lastRound + 1, currentMilliseconds())
            lastRound = round
            writeSnapshot(round: round, producer: producer)
        }
    }

    private func writeSnapshot(round: Int64, producer: KafkaProducer) {
        let (snapshot, positionsNow, heldNow) = consistent { (state.withLock { $0.snapshot() }, positions.withLock { $0 }, heldActions()) }
        let offsets = positionsNow.map { LeaderboardSnapshotRecord.Offset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) }
        let held = heldNow.map { LeaderboardSnapshotRecord.HeldAction(value: String(decoding: $0.value, as: UTF8.self), time: $0.time) }
        let topic = workshop.topics.leaderboardState
        for (team, teamState) in snapshot.teams {
            let record = LeaderboardSnapshotRecord(round: round, team: teamState)
            producer.send(topic: topic, key: Array(team.utf8), value: (try? Array(JSONCoding.encoder.encode(record))) ?? []) { [logger] result in
                if case .failure(let error) = result {
                    // The team's previous snapshot stays the one a restart loads.
                    logger.warning("a team's snapshot record was not stored", metadata: ["team": .string(team), "kafka.error": .string(error.description)])
                }
            }
        }
        let board = LeaderboardSnapshotRecord(
            round: round, offsets: offsets.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }, held: held,
            unknownTeamActions: snapshot.unknownTeamActions, latestTeamStats: snapshot.latestTeamStats, latestWatchlist: snapshot.latestWatchlist,
            sessionStartedAt: snapshot.sessionStartedAt
        )
        producer.send(topic: topic, key: Array(LeaderboardSnapshotRecord.boardKey.utf8), value: (try? Array(JSONCoding.encoder.encode(board))) ?? []) { [logger] result in
            if case .failure(let error) = result {
                logger.warning("the board's snapshot record was not stored", metadata: ["kafka.error": .string(error.description)])
            }
        }
    }
}

/// A snapshot as loaded: the board and when it was taken (ms).
struct RestoredBoard: Sendable {
    var board: BoardSnapshot
    var round: Int64
}
