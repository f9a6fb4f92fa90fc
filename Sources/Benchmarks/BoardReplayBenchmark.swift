import ServerSupport
import FastJSON
import Foundation
import Kafka
import Leaderboard

/// Measures how fast the leaderboard is rebuilt from its input topics, the path a
/// restart without snapshot takes: records of `new_users` and `actions` over five
/// partitions each, merged by timestamp and applied to a ``LeaderboardState``, fed from
/// memory (no broker). The class is simulated as careful teams flagging every user
/// their rule matches, one record in twenty a mistake, and each team's `team_stats` every
/// hundred users.
public enum BoardReplayBenchmark {
    public struct Result: Encodable, Sendable {
        public var users: Int
        public var records: Int
        public var seconds: Double
        public var recordsPerSecond: Double
        /// Resident memory before and after, in MiB.
        public var rssBeforeMiB: Double
        public var rssAfterMiB: Double
        /// Valid actions on the board at the end (every team's), as a sanity check.
        public var validActions: Int

        enum CodingKeys: String, CodingKey {
            case users, records, seconds
            case recordsPerSecond = "records_per_second"
            case rssBeforeMiB = "rss_before_mib"
            case rssAfterMiB = "rss_after_mib"
            case validActions = "valid_actions"
        }
    }

    public static func run(users: Int, seed: UInt64 = 1) -> Result {
        let workshop = Workshop.default
        let topics = workshop.topics
        let partitions = Int32(topics.partitions)
        // Build the records outside the timed part: users 100 ms apart (10/s, the
        // generator's default), each team's action 50 ms after the user.
        var generator = UserGenerator(seed: seed)
        var records: [KafkaRecord] = []
        var offsets: [KafkaTopicPartition: Int64] = [:]
        func append(_ topic: String, _ partition: Int32, key: String?, _ value: [UInt8], at time: Int64) {
            let tp = KafkaTopicPartition(topic: topic, partition: partition)
            let offset = offsets[tp, default: 0]
            offsets[tp] = offset + 1
            records.append(KafkaRecord(topic: topic, partition: partition, offset: offset, key: key.map { Array($0.utf8) }, value: value, timestampMilliseconds: time))
        }
        var flagged = [Int](repeating: 0, count: workshop.teams.count)
        for index in 0..<users {
            let time = 1_700_000_000_000 + Int64(index) * 100
            let value = generator.next()
            append(topics.newUsers, Int32(index) % partitions, key: nil, value, at: time)
            guard let user = NewUser.decode(value), let email = user.email else { continue }
            for (teamIndex, team) in workshop.teams.enumerated() where workshop.matches(user, team: team) {
                let reason = (index + teamIndex) % 20 == 0 ? "WRONG" : team.reason
                let action = JSONWriter.object([("customer", .string(email)), ("type", .string(team.type)), ("reason", .string(reason)), ("team", .string(team.name))])
                append(topics.actions, Int32(index + teamIndex) % partitions, key: nil, action, at: time + 50)
                flagged[teamIndex] += 1
            }
            if index % 100 == 99 {
                for (teamIndex, team) in workshop.teams.enumerated() {
                    let stats = JSONWriter.object([("team", .string(team.name)), ("processed", .integer(Int64(index + 1))), ("flagged", .integer(Int64(flagged[teamIndex])))])
                    append(topics.teamStats, Int32(teamIndex) % partitions, key: team.name, stats, at: time + 80)
                }
            }
        }
        // The consumer hands partitions over in fetch-sized runs, not in time order:
        // deliver each partition's records in runs of 500, partitions taking turns.
        var byPartition: [KafkaTopicPartition: [KafkaRecord]] = [:]
        for record in records { byPartition[KafkaTopicPartition(topic: record.topic, partition: record.partition), default: []].append(record) }
        let sources = [topics.newUsers, topics.actions, topics.teamStats, topics.watchlist].flatMap { topic in
            (0..<partitions).map { KafkaTopicPartition(topic: topic, partition: $0) }
        }
        var delivery: [KafkaRecord] = []
        delivery.reserveCapacity(records.count)
        var cursor = [KafkaTopicPartition: Int]()
        while delivery.count < records.count {
            for source in sources {
                guard let list = byPartition[source] else { continue }
                let start = cursor[source, default: 0]
                let end = min(list.count, start + 500)
                delivery.append(contentsOf: list[start..<end])
                cursor[source] = end
            }
        }
        records = []

        let rssBefore = ReplayBenchmark.residentMiB()
        let started = ContinuousClock.now
        var merge = TimeOrderedMerge<KafkaTopicPartition, KafkaRecord>(sources: sources)
        // Partitions with nothing in them report their end at once, as a consumer's do.
        for source in sources where byPartition[source] == nil { merge.caughtUp(source) }
        var board = LeaderboardState(workshop: workshop)
        func apply(_ record: KafkaRecord) {
            let time = record.timestampMilliseconds ?? 0
            switch record.topic {
            case topics.newUsers: board.userSeen(record.value, at: time)
            case topics.actions: board.action(record.value, at: time)
            default: board.teamStats(key: record.key.map { String(decoding: $0, as: UTF8.self) }, value: record.value, at: time)
            }
        }
        for record in delivery {
            merge.push(record, time: record.timestampMilliseconds ?? 0, from: KafkaTopicPartition(topic: record.topic, partition: record.partition))
            for ready in merge.release() { apply(ready) }
        }
        for source in sources { merge.caughtUp(source) }
        for ready in merge.release() { apply(ready) }
        let elapsed = ContinuousClock.now - started
        let seconds = elapsed.inSeconds
        return Result(
            users: users, records: delivery.count, seconds: seconds, recordsPerSecond: Double(delivery.count) / max(seconds, 1e-9),
            rssBeforeMiB: rssBefore, rssAfterMiB: ReplayBenchmark.residentMiB(),
            validActions: board.teams.values.reduce(0) { $0 + $1.valid }
        )
    }
}
