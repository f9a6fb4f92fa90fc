import App
import ArgumentParser
import Foundation

/// `streamsocial`: the command line. `serve` is the default subcommand.
@main
struct StreamSocialCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streamsocial",
        abstract: "A live Kafka workshop dashboard: timeline API, live panels, instructor leaderboard.",
        version: StreamSocialVersion.current,
        subcommands: [Serve.self, LoadTestCommand.self, BenchmarkReplayCommand.self, BenchmarkBoardCommand.self, BenchmarkGatewayCommand.self, PrintWorkshopCommand.self, PrintTopicsCommand.self],
        defaultSubcommand: Serve.self
    )

    /// `serve`'s settings from its `--config` file and the environment go before the
    /// flags given (``ConfigurationSources``): a flag wins over the environment, which
    /// wins over the file.
    static func main() {
        let given = Array(CommandLine.arguments.dropFirst())
        // The other subcommands (serve has no name of its own here: it is the default).
        let others = Set(configuration.subcommands.compactMap { $0.configuration.commandName }).union(["help", "-h", "--help", "--version"])
        let first = given.first ?? "serve"
        guard !others.contains(first) else {
            main(given)
            return
        }
        let serveArguments = first == "serve" ? Array(given.dropFirst()) : given
        do throws(ConfigurationSources.Failure) {
            main(["serve"] + (try ConfigurationSources.arguments(serveArguments, environment: ProcessInfo.processInfo.environment)))
        } catch {
            FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
            Foundation.exit(64)
        }
    }
}
