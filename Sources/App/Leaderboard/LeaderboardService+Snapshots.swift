import ServerSupport
import Foundation
import Kafka
import Leaderboard
import Logging
import Synchronization

/// Reading and writing the board's changelog (``BoardChangelog``) in Kafka.
extension LeaderboardService {
    /// Reads `leaderboard_state` to its end and returns what its latest records hold.
    /// Blocking (a few seconds at most on a reachable cluster).
    static func loadSnapshot(topic: String, kafka: KafkaConfiguration, admin: KafkaAdmin, logger: Logger) throws(KafkaError) -> BoardChangelog.Loaded {
        let metadata = try admin.metadata()
        guard let partitions = metadata.topics.first(where: { $0.name == topic })?.partitionCount, partitions > 0 else { return .none }
        let ends = try admin.watermarks(topic: topic, partitionCount: partitions)
            .filter { $0.value.high > $0.value.low }.mapValues(\.high)
        guard !ends.isEmpty else { return .none }
        // The reading thread's state: the latest record per key, and the partitions not
        // read to their end yet.
        let reading = Mutex<(latest: [String: BoardChangelog.Record], remaining: [Int32: Int64])>(([:], ends))
        let consumer = try KafkaConsumer(configuration: kafka, consumer: .init(mode: .assignAllFromEarliest(topics: [topic])), logger: logger)
        consumer.run { event in
            guard case .record(let record) = event else { return }
            let key = record.key.map { String(decoding: $0, as: UTF8.self) }
            let decoded = BoardChangelog.decode(record.value)
            reading.withLock { reading in
                if let key, let decoded { reading.latest[key] = decoded }
                if let end = reading.remaining[record.partition], record.offset + 1 >= end { reading.remaining[record.partition] = nil }
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while !reading.withLock({ $0.remaining.isEmpty }), ContinuousClock.now < deadline { usleep(10_000) }
        consumer.close()
        return BoardChangelog.latest(reading.withLock { $0.latest }, now: currentMilliseconds())
    }

    /// Sends one round's records, the `_board` record last. A record not stored leaves
    /// the previous round the one a restart loads (a team record of the new round is
    /// skipped without its `_board` record).
    func send(_ write: StateMachine.SnapshotWrite, producer: KafkaProducer) {
        let topic = workshop.topics.leaderboardState
        for record in BoardChangelog.records(round: write.round, board: write.board, offsets: write.offsets, held: write.held) {
            producer.send(topic: topic, key: Array(record.key.utf8), value: record.value) { [logger] result in
                if case .failure(let error) = result {
                    logger.warning("a snapshot record was not stored", metadata: ["key": .string(record.key), "kafka.error": .string(error.description)])
                }
            }
        }
    }
}
