import HTTPTestSupport
import Kafka
import Leaderboard
import Logging
@testable import Simulation
import Synchronization
import Testing

/// Keeps every log entry at warning or above, so a test can assert that none came.
final class WarningLog: Sendable {
    private let entries = Mutex<[String]>([])

    var logger: Logger { Logger(label: "test") { _ in Handler(log: self) } }

    var lines: [String] { entries.withLock { $0 } }

    private struct Handler: LogHandler {
        let log: WarningLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .warning

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (metadata.merging(event.metadata ?? [:]) { $1 }).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            log.entries.withLock { $0.append("\(event.level) \(event.message) \(fields.joined(separator: " "))") }
        }
    }
}

@Suite("Simulated teams on the embedded cluster")
struct TeamSimulatorStopTests {
    /// Each team's instances form one consumer group. Closed all at once, the first to
    /// leave started a rebalance and every later one's final commit failed inside it:
    /// `COMMITFAIL` warnings at every stop of `./scripts/run.sh`, and those teams'
    /// last records read again at the next start.
    @Test("stopping the simulated class commits what every instance read, with no failed commit")
    func stopCommitsCleanly() async throws {
        let workshop = Workshop.default
        let topic = workshop.topics.newUsers
        let cluster = try EmbeddedKafka(topics: [.init(topic, partitions: 3)], logger: quietLogger)
        defer { cluster.stop() }
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka, logger: quietLogger)
        defer { producer.close() }
        let log = WarningLog()
        // Three teams: one, two and three instances.
        let simulator = TeamSimulator(workshop: workshop, teams: 3, producer: producer, logger: log.logger)
        try simulator.start(kafka: kafka)

        var users = UserGenerator(seed: 11)
        let count = 30
        for index in 0..<count {
            _ = try await producer.send(topic: topic, key: nil, value: users.next(), partition: Int32(index % 3))
        }
        // Every group formed with all its instances, and every user read (some twice,
        // where a rebalance came before a commit): the class at work, as an instructor
        // stops it. (Under the full parallel suite on 2 cores the
        // groups take many seconds to form.)
        let settled = await eventuallyAsync(timeout: .seconds(120)) {
            simulator.everyInstanceHoldsPartitions && simulator.status().allSatisfy { $0.processed >= count }
        }
        #expect(settled, "processed: \(simulator.status().map(\.processed)), every instance assigned: \(simulator.everyInstanceHoldsPartitions)")
        // Only what the stop logs: while the groups formed, the background committer's
        // commits could fail in their rebalances (librdkafka retries them), which is not
        // what this pins.
        let before = log.lines.count
        simulator.stop()

        #expect(log.lines.dropFirst(before).filter { $0.contains("COMMIT") || $0.contains("ommit") } == [])
        let admin = try KafkaAdmin(configuration: kafka, logger: quietLogger)
        defer { admin.close() }
        let partitions = (0..<3).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }
        for team in workshop.teams.prefix(3) {
            let committed = try admin.committedOffsets(group: team.name, partitions: partitions)
            #expect(committed == Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(count / 3)) }), "\(team.name)")
        }
    }
}
