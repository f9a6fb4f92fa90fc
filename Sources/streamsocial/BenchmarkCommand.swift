import Benchmarks
import ArgumentParser
import Foundation

/// `streamsocial benchmark-replay`: timeline rebuild speed and memory, for scripts/bench.sh.
struct BenchmarkReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark-replay",
        abstract: "Rebuild timelines from generated user-timeline records in memory; print records/s and resident memory as JSON."
    )

    @Option(help: "Records to replay.")
    var records: Int = 1_000_000

    @Option(help: "Distinct users.")
    var users: Int = 100_000

    func validate() throws {
        guard records >= 1, users >= 1 else { throw ValidationError("--records and --users must be positive") }
    }

    func run() throws {
        let result = ReplayBenchmark.run(records: records, users: users)
        try JSONOutput.write(result)
    }
}

/// `streamsocial benchmark-board`: leaderboard rebuild speed and memory, for scripts/bench.sh.
struct BenchmarkBoardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark-board",
        abstract: "Rebuild the leaderboard from generated new_users, actions and team_stats records in memory (merged by timestamp); print records/s and resident memory as JSON."
    )

    @Option(help: "Users in new_users (a three-hour class at 10/s is 108,000).")
    var users: Int = 108_000

    func validate() throws {
        guard users >= 1 else { throw ValidationError("--users must be positive") }
    }

    func run() throws {
        let result = BoardReplayBenchmark.run(users: users)
        try JSONOutput.write(result)
    }
}

/// `streamsocial benchmark-gateway`: what the Kafka gateway adds to a producer, for
/// scripts/bench.sh.
struct BenchmarkGatewayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark-gateway",
        abstract: "Produce the same records to a fresh embedded cluster straight to its brokers and through the Kafka gateway, alternating; print records/s and send-to-ack latency of each as JSON."
    )

    @Option(help: "Records per run.")
    var records: Int = 50_000

    @Option(help: "Bytes per record value.")
    var valueBytes: Int = 200

    @Option(help: "Runs each way.")
    var rounds: Int = 3

    func validate() throws {
        guard records >= 1, (1...1_000_000).contains(valueBytes), (1...20).contains(rounds) else {
            throw ValidationError("--records must be positive, --value-bytes 1...1000000, --rounds 1...20")
        }
    }

    func run() throws {
        try JSONOutput.write(try GatewayBenchmark.run(records: records, valueBytes: valueBytes, rounds: rounds))
    }
}
