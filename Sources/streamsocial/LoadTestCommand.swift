import ArgumentParser
import Foundation
import LoadTest

/// `streamsocial load-test`: post through the API, report speed, verify nothing was lost.
struct LoadTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-test",
        abstract: "Post many messages through the API, print requests/s and latency, and verify every acknowledged post reached its timeline in order.",
        discussion: "Exits with status 1 when any request failed, any acknowledged post was lost or any ordering violation was reported."
    )

    @Option(help: "The server to test.")
    var url: String = "http://127.0.0.1:8000"

    @Option(help: "Distinct users (post i belongs to user i mod users).")
    var users: Int = 10

    @Option(help: "Posts to send.")
    var messages: Int = 20_000

    @Option(help: "Parallel keep-alive connections.")
    var concurrency: Int = 50

    @Option(help: "user (key = user_id), none (no key) or random (a random key per post).")
    var keyStrategy: String = "user"

    @Option(help: "Target posts per second over all connections (default: as fast as answers come).")
    var rate: Double?

    @Flag(help: "Also measure post → WebSocket latency on the messages channel.")
    var watchWebsocket = false

    @Option(help: "WebSocket clients subscribed to every channel, reading throughout the run (a class with the dashboard open).")
    var websocketClients: Int = 0

    @Flag(help: "Skip the verification through the API.")
    var noVerify = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard LoadTestConfiguration.parse(url: url) != nil else { throw ValidationError("--url must look like http://host:port") }
        guard (0...20_000).contains(websocketClients) else { throw ValidationError("--websocket-clients must be 0...20000") }
        guard users >= 1, messages >= 1, concurrency >= 1 else { throw ValidationError("--users, --messages and --concurrency must be positive") }
        guard ["user", "none", "random"].contains(keyStrategy) else { throw ValidationError("--key-strategy must be user, none or random") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
    }

    func run() throws {
        guard let (host, port) = LoadTestConfiguration.parse(url: url) else { throw ExitCode.validationFailure }
        // Every connection is a descriptor: 1,000 WebSocket clients and the posting
        // connections pass a default soft limit of 1,024.
        let needed = rlim_t(websocketClients + concurrency + 64)
        let limit = OpenFileLimit.raise()
        guard limit >= needed else {
            throw ValidationError("\(websocketClients) WebSocket clients and \(concurrency) connections need \(needed) open files; the limit is \(limit) (ulimit -n)")
        }
        var configuration = LoadTestConfiguration(host: host, port: port)
        configuration.users = users
        configuration.messages = messages
        configuration.concurrency = concurrency
        configuration.keyStrategy = keyStrategy
        configuration.rate = rate
        configuration.watchWebSocket = watchWebsocket
        configuration.webSocketCrowd = websocketClients
        configuration.verify = !noVerify
        let report = try LoadTestRunner.run(configuration) { line in
            if !json { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        if json {
            try JSONOutput.write(report)
        } else {
            FileHandle.standardOutput.write(Data((report.text + "\n").utf8))
        }
        let failed = report.errors > 0 || (report.verification.map { $0.lost > 0 || (keyStrategy == "user" && $0.violations > 0) || !$0.complete } ?? false)
        if failed { throw ExitCode.failure }
    }
}
