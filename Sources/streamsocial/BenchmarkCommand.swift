import App
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
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        FileHandle.standardOutput.write(try encoder.encode(result) + Data("\n".utf8))
    }
}
