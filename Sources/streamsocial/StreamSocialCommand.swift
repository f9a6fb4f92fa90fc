import App
import ArgumentParser

/// `streamsocial`: the command line. `serve` is the default subcommand.
@main
struct StreamSocialCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streamsocial",
        abstract: "A live Kafka workshop dashboard: timeline API, live panels, instructor leaderboard.",
        version: StreamSocialVersion.current,
        subcommands: [Serve.self, LoadTestCommand.self, BenchmarkReplayCommand.self, BenchmarkBoardCommand.self, BenchmarkGatewayCommand.self, PrintWorkshopCommand.self],
        defaultSubcommand: Serve.self
    )
}
