import App
import Simulation
import Foundation
import HTTPTestSupport
import Kafka
import Leaderboard
import Logging

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// The repository's Public/ folder, found from this file's path.
let repositoryPublicDirectory: String = {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Public").path
}()

/// The real app on a free loopback port, with its embedded Kafka (or a given cluster).
final class RunningApp {
    let app: StreamSocialApp

    init(
        bootstrapServers: String? = nil, sendTimeout: Duration = .seconds(5), generatorRate: Double = 0, adminToken: String? = nil,
        simulatedTeams: Int = 0, workshop: Workshop = .default
    ) throws {
        var configuration = AppConfiguration()
        configuration.workshop = workshop
        configuration.simulatedTeams = simulatedTeams
        configuration.makeSimulator = { SimulatedClass($0) }
        configuration.generatorRate = generatorRate
        configuration.adminToken = adminToken
        configuration.host = "127.0.0.1"
        configuration.port = 0
        // The gateway on this machine only, on any free ports (tests run side by side).
        configuration.kafkaListenHost = "127.0.0.1"
        configuration.kafkaListenPort = 0
        configuration.publicDirectory = repositoryPublicDirectory
        configuration.bootstrapServers = bootstrapServers
        configuration.sendTimeout = sendTimeout
        app = try StreamSocialApp.start(configuration, logger: quietLogger)
        if bootstrapServers == nil { app.waitUntilReady(timeout: .seconds(20)) }
    }

    deinit { app.stop() }

    var port: Int { app.port }

    func client() throws -> TestHTTPClient { try TestHTTPClient(port: port) }
}

