import App
import HTTPServer
import Leaderboard
import Simulation
public import ArgumentParser
import Foundation
import Logging

/// `streamsocial serve`: run the server until SIGINT or SIGTERM.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the dashboard and API; with no Kafka given, start an embedded Kafka cluster.",
        discussion: """
            Without --bootstrap-servers (or KAFKA_BOOTSTRAP_SERVERS), the server starts \
            librdkafka's in-process Kafka cluster on random loopback ports and logs them, \
            so local Kafka clients can connect too.
            """
    )

    @Option(help: ArgumentHelp(
        "A JSON file of settings: each flag's long name without dashes as a key, e.g. {\"port\": 8000, \"kafka-config\": {\"security.protocol\": \"SASL_SSL\"}}. A flag given wins over an environment variable (KAFKA_BOOTSTRAP_SERVERS, STREAMSOCIAL_ADMIN_TOKEN, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_SSL_CA_LOCATION), which wins over the file.",
        valueName: "file"
    ))
    var config: String?

    @Option(help: "Port for HTTP and WebSocket.")
    var port: Int = 8000

    @Option(help: "Address to listen on (0.0.0.0: every interface; 127.0.0.1: this machine only).")
    var host: String = "0.0.0.0"

    @Option(help: ArgumentHelp(
        "Kafka bootstrap servers (host:port,...). Default: $KAFKA_BOOTSTRAP_SERVERS, or else an embedded cluster.",
        valueName: "servers"
    ))
    var bootstrapServers: String?

    @Option(name: .customLong("kafka-config"), help: ArgumentHelp(
        "A librdkafka property for every Kafka client, e.g. security.protocol=SASL_SSL. Repeatable.",
        valueName: "key=value"
    ))
    var kafkaConfig: [String] = []

    @Option(help: "Folder with the dashboard's HTML, CSS and JS.")
    var publicDir: String = "Public"

    @Option(help: "Brokers of the embedded cluster (ignored with --bootstrap-servers).")
    var embeddedBrokers: Int = 3

    @Option(help: ArgumentHelp(
        "Where the Kafka gateway listens for the class's clients (embedded cluster only): one port per broker from PORT on, the next free ones if taken. 127.0.0.1:9092 keeps it to this machine; port 0 takes any free ports.",
        valueName: "host:port"
    ))
    var kafkaListen: String = "0.0.0.0:9092"

    @Option(help: ArgumentHelp("The host the Kafka gateway tells clients to connect to. Default: this machine's first non-loopback IPv4 address.", valueName: "host"))
    var kafkaAdvertisedHost: String?

    @Option(help: "Milliseconds Kafka may take to acknowledge a post before the client gets an error (message.timeout.ms).")
    var sendTimeoutMs: Int = 5000

    @Option(help: ArgumentHelp("The workshop file (teams, rules, points) the leaderboard judges. Default: the tutorial's fifteen teams.", valueName: "file"))
    var workshop: String?

    @Option(help: ArgumentHelp("The teams' Kafka passwords on a secured cluster (team,username,password: the teams.csv docker/scram-users.sh writes); the join page shows a team its password when the instructor's token allows.", valueName: "file"))
    var teamCredentials: String?

    @Option(help: "Fake users produced to new_users per second (0: paused; change at runtime with POST /api/admin/generator).")
    var generatorRate: Double = 10

    @Option(help: "Run this many simulated workshop teams as real Kafka clients (for demos and rehearsals).")
    var simulateTeams: Int = 0

    @Option(help: "Seed of the fake users: the same seed gives the same users.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Bearer token for the instructor routes /api/admin/... Default: $STREAMSOCIAL_ADMIN_TOKEN; without one they are off.", valueName: "token"))
    var adminToken: String?

    @Option(help: ArgumentHelp("Names this server's own consumer group (timeline-consumer-group-<id>). Default: random per start.", valueName: "id"))
    var instanceId: String?

    @Option(name: .customLong("allow-origin"), help: ArgumentHelp(
        "A browser origin besides the dashboard's own that may open its WebSocket, e.g. http://projector.local:8000. Repeatable.",
        valueName: "origin"
    ))
    var allowOrigin: [String] = []

    @Option(help: "Seconds a stop (SIGINT/SIGTERM) may take before the process exits anyway (status 1); a second signal exits at once. A clean stop answers the posts in flight (up to the send timeout), flushes, commits and snapshots, then exits 0.")
    var stopTimeout: Int = 15

    @Option(help: "How the HTTP server waits for its sockets: epoll (libev; a pass costs what is ready) or poll (libwebsockets' own; every pass walks every connection, kept to compare against).")
    var eventLoop: HTTPServerConfiguration.EventLoop = .epoll

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Log format: text (for people) or json (one object per line, for a log collector).")
    var logFormat: String = "text"

    @OptionGroup var timeline: TimelineTopicOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard embeddedBrokers >= 1 else { throw ValidationError("--embedded-brokers must be at least 1") }
        guard sendTimeoutMs >= 1 else { throw ValidationError("--send-timeout-ms must be positive") }
        guard generatorRate >= 0, generatorRate <= 10_000 else { throw ValidationError("--generator-rate must be 0...10000") }
        guard (0...100).contains(simulateTeams) else { throw ValidationError("--simulate-teams must be 0...100") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format must be text or json") }
        guard (1...600).contains(stopTimeout) else { throw ValidationError("--stop-timeout must be 1...600 seconds") }
        if let adminToken, adminToken.trimmingCharacters(in: .whitespaces).isEmpty {
            // An empty token would let `Authorization: Bearer ` with nothing after it in.
            throw ValidationError("--admin-token must not be empty (leave it out to turn the instructor routes off)")
        }
        if let instanceId {
            let allowed = instanceId.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "_.-".unicodeScalars.contains($0) }
            guard (1...32).contains(instanceId.count), allowed else {
                throw ValidationError("--instance-id must be 1 to 32 letters, digits and _ . -")
            }
        }
        _ = try parsedKafkaConfig()
        _ = try parsedKafkaListen()
        if let kafkaAdvertisedHost {
            let allowed = kafkaAdvertisedHost.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-:".unicodeScalars.contains($0)) }
            guard (1...253).contains(kafkaAdvertisedHost.count), allowed else {
                throw ValidationError("--kafka-advertised-host must be a host name or an IP address")
            }
        }
    }

    /// `--kafka-listen` as host and port (`[::]:9092` for IPv6).
    func parsedKafkaListen() throws -> (host: String, port: Int) {
        guard let colon = kafkaListen.lastIndex(of: ":"), let port = Int(kafkaListen[kafkaListen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--kafka-listen must be host:port, e.g. 0.0.0.0:9092")
        }
        var host = String(kafkaListen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--kafka-listen must name a host, e.g. 0.0.0.0:9092") }
        return (host, port)
    }

    func parsedKafkaConfig() throws -> [String: String] {
        var properties: [String: String] = [:]
        for entry in kafkaConfig {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw ValidationError("--kafka-config expects key=value, got '\(entry)'")
            }
            properties[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return properties
    }

    func run() throws {
        // Before any thread starts, so every thread inherits the mask and only this one
        // takes SIGINT/SIGTERM (a signal landing on a librdkafka thread got lost).
        TerminationSignals.block()
        OpenFileLimit.raise()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let json = logFormat == "json"
        LoggingSystem.bootstrap { label in
            if json { return JSONLogHandler(label: label, level: level) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "streamsocial")
        // A clean stop may wait the send timeout plus a second for posts in flight, then
        // up to 5 s for the producer's flush.
        if stopTimeout * 1000 < sendTimeoutMs + 7000 {
            logger.warning("--stop-timeout may cut a clean stop short: it can take up to --send-timeout-ms + 7 s", metadata: [
                "stop_timeout.s": .stringConvertible(stopTimeout), "send_timeout.ms": .stringConvertible(sendTimeoutMs),
            ])
        }

        var configuration = AppConfiguration()
        configuration.host = host
        configuration.port = port
        // The environment's settings came in as flags already (StreamSocialCommand.main).
        configuration.bootstrapServers = bootstrapServers
        configuration.kafkaProperties = try parsedKafkaConfig()
        if !configuration.kafkaProperties.isEmpty {
            logger.info("Kafka client properties", metadata: ConfigurationSources.redacted(configuration.kafkaProperties).mapValues { .string($0) })
        }
        configuration.publicDirectory = publicDir
        configuration.embeddedBrokers = embeddedBrokers
        (configuration.kafkaListenHost, configuration.kafkaListenPort) = try parsedKafkaListen()
        configuration.kafkaAdvertisedHost = kafkaAdvertisedHost
        configuration.sendTimeout = .milliseconds(sendTimeoutMs)
        configuration.timelineTopic = timeline.spec
        configuration.generatorRate = generatorRate
        configuration.httpEventLoop = eventLoop
        configuration.generatorSeed = seed
        configuration.simulatedTeams = simulateTeams
        configuration.makeSimulator = { SimulatedClass($0) }
        configuration.adminToken = adminToken
        if let instanceId { configuration.instanceID = instanceId }
        configuration.allowedOrigins = Set(allowOrigin)
        if let workshop {
            do {
                configuration.workshop = try Workshop.load(contentsOf: workshop)
            } catch {
                logger.critical("could not load the workshop", metadata: ["error": .string(error.description)])
                throw ExitCode.failure
            }
        }
        if let teamCredentials {
            do {
                configuration.teamCredentials = try TeamCredentials.load(contentsOf: teamCredentials, workshop: configuration.workshop)
            } catch {
                logger.critical("could not load the team credentials", metadata: ["file": .string(teamCredentials), "error": .string(error.description)])
                throw ExitCode.failure
            }
            if adminToken == nil {
                logger.warning("--team-credentials without --admin-token: nobody can read the passwords (the join page needs the instructor's token)")
            }
        }

        let app: StreamSocialApp
        do {
            app = try StreamSocialApp.start(configuration, logger: logger)
        } catch {
            logger.critical("could not start", metadata: ["error": .string(error.description)])
            throw ExitCode.failure
        }
        let shownHost = ["0.0.0.0", "::", ""].contains(host) ? "localhost" : host
        logger.info("StreamSocial is up", metadata: [
            "dashboard": .string("http://\(shownHost):\(app.port)"),
            "kafka.mode": .string(app.kafkaMode.rawValue),
            "kafka.bootstrap_servers": .string(app.bootstrapServers),
        ])
        let signal = TerminationSignals.wait()
        logger.info("stopping", metadata: ["signal": .stringConvertible(signal)])
        TerminationSignals.exitIfStopHangs(after: .seconds(stopTimeout), logger: logger)
        app.stop()
        logger.info("stopped")
    }
}

/// `--event-loop epoll|poll`, parsed and listed in `--help` by ArgumentParser.
extension HTTPServerConfiguration.EventLoop: ExpressibleByArgument {}
