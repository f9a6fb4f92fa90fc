import ServerSupport
import Dispatch
import Foundation
import HTTPServer
import Kafka
import KafkaGateway
import Leaderboard
import Synchronization
public import Logging

/// The running server: Kafka clients, the HTTP/WebSocket server, and the consumers that
/// feed the dashboard. Data flows one way: HTTP in → producer → Kafka → consumer →
/// WebSocket out.
public final class StreamSocialApp: Sendable {
    /// Where Kafka is: inside this process or a real cluster.
    public enum KafkaMode: String, Sendable {
        case embedded
        case external
    }

    public let configuration: AppConfiguration
    public let kafkaMode: KafkaMode
    public let bootstrapServers: String
    /// The bound HTTP port.
    public let port: Int

    /// What `GET /metrics` serves.
    public let metrics: ServerMetrics
    let logger: Logger
    let timelines: TimelineService
    /// Every part that runs, in start order; ``stop()`` stops them newest first.
    let lifecycle: Lifecycle

    /// Starts Kafka (embedded unless ``AppConfiguration/bootstrapServers`` is set), the
    /// clients and the HTTP server.
    /// - Throws: ``AppError`` naming what could not start; whatever had started is stopped.
    public static func start(_ configuration: AppConfiguration, logger: Logger) throws(AppError) -> StreamSocialApp {
        guard FileManager.default.fileExists(atPath: configuration.publicDirectory + "/index.html") else {
            throw .publicDirectoryMissing(configuration.publicDirectory)
        }
        // Each part is registered as it starts; a start that fails stops exactly what
        // had started, newest first, as stop() does.
        let lifecycle = Lifecycle()
        let metrics = ServerMetrics(teams: configuration.workshop.teams.map(\.name))
        let clients: Clients
        do throws(AppError) {
            clients = try Clients(configuration, metrics: metrics, lifecycle: lifecycle, logger: logger)
        } catch {
            lifecycle.stop()
            throw error
        }
        do throws(AppError) {
            return try StreamSocialApp(configuration: configuration, metrics: metrics, logger: logger, lifecycle: lifecycle, clients: clients)
        } catch {
            lifecycle.stop()
            throw error
        }
    }

    /// The Kafka clients (and the embedded cluster), each registered with the lifecycle
    /// as it is created.
    private struct Clients {
        var embedded: EmbeddedKafka?
        /// How the server's own clients reach the cluster (the embedded brokers directly).
        var bootstrap: String
        /// What students (and the simulated class) are told: the gateway in embedded mode.
        var publicBootstrap: String
        var gateway: KafkaGateway?
        /// Keyless records the gateway refused, for the board (embedded mode only).
        var refusals: RefusedRecords?
        var producer: KafkaProducer
        var admin: KafkaAdmin
        var consumer: KafkaConsumer

        init(_ configuration: AppConfiguration, metrics: ServerMetrics, lifecycle: Lifecycle, logger: Logger) throws(AppError) {
            if let servers = configuration.bootstrapServers {
                bootstrap = servers
                publicBootstrap = servers
            } else {
                let cluster: EmbeddedKafka
                do throws(KafkaError) {
                    cluster = try EmbeddedKafka(
                        brokers: configuration.embeddedBrokers, topics: Topics.expected(workshop: configuration.workshop, timeline: configuration.timelineTopic), logger: logger
                    )
                } catch {
                    throw .kafka(error)
                }
                lifecycle.started("embedded-kafka") { cluster.stop() }
                embedded = cluster
                bootstrap = cluster.bootstrapServers
                let refusals = RefusedRecords()
                self.refusals = refusals
                let gateway = try Self.startGateway(configuration, cluster: cluster, refusals: refusals, logger: logger)
                lifecycle.started("kafka-gateway") { gateway.stop() }
                self.gateway = gateway
                publicBootstrap = gateway.bootstrapAddress
            }
            do throws(KafkaError) {
                (producer, admin, consumer) = try Self.createClients(configuration, bootstrap: bootstrap, metrics: metrics, lifecycle: lifecycle, logger: logger)
            } catch {
                throw .kafka(error)
            }
        }

        /// The gateway a class connects through, in front of the embedded brokers.
        /// A keyless record to a topic a real cluster holds compacted is refused there, as
        /// Apache Kafka refuses it, and handed to `refusals` for the board.
        private static func startGateway(
            _ configuration: AppConfiguration, cluster: EmbeddedKafka, refusals: RefusedRecords, logger: Logger
        ) throws(AppError) -> KafkaGateway {
            var settings = KafkaGateway.Configuration()
            settings.listenHost = configuration.kafkaListenHost
            settings.listenPort = configuration.kafkaListenPort
            settings.advertisedHost = configuration.kafkaAdvertisedHost ?? KafkaGateway.defaultAdvertisedHost(listening: configuration.kafkaListenHost)
            settings.compactedTopics = Set(LeaderboardService.topics(of: configuration.workshop).filter { $0.config["cleanup.policy"]?.contains("compact") == true }.map(\.name))
            let gateway = KafkaGateway(
                configuration: settings, upstreams: KafkaGateway.Upstream.list(cluster.bootstrapServers), logger: logger,
                keylessRefused: { refusals.add($0) }
            )
            let ports: [Int]
            do throws(GatewayError) {
                ports = try gateway.start()
            } catch {
                throw .gateway(error)
            }
            logger.info("Kafka gateway: students set bootstrap.servers to \(gateway.bootstrapAddress)", metadata: [
                "kafka.listen": .string("\(settings.listenHost):\(ports.map(String.init).joined(separator: ","))"),
                "kafka.reach": .string(KafkaGateway.reach(listening: settings.listenHost)),
            ])
            return gateway
        }

        /// The server's own clients, on the brokers directly.
        private static func createClients(
            _ configuration: AppConfiguration, bootstrap: String, metrics: ServerMetrics, lifecycle: Lifecycle, logger: Logger
        ) throws(KafkaError) -> (KafkaProducer, KafkaAdmin, KafkaConsumer) {
            let kafka = configuration.kafka(bootstrapServers: bootstrap)
            var producerConfiguration = KafkaProducerConfiguration()
            producerConfiguration.messageTimeout = configuration.sendTimeout
            let producer = try KafkaProducer(configuration: kafka, producer: producerConfiguration, logger: logger, metrics: metrics.factory)
            lifecycle.started("kafka-producer") { producer.close(flushTimeout: .seconds(5)) }
            let admin = try KafkaAdmin(configuration: kafka, logger: logger)
            lifecycle.started("kafka-admin") { admin.close() }
            var consumerConfiguration = KafkaConsumerConfiguration(
                mode: .assignAllCommitting(groupID: TimelineService.groupID(instance: configuration.instanceID), topics: [configuration.timelineTopic.name])
            )
            // Readiness waits until every partition is being read (its end reached once).
            consumerConfiguration.reportsEndOfPartition = true
            // The embedded brokers hold an empty fetch for the whole wait and do not
            // answer early when a post arrives: the wait is what a post waits for the
            // dashboard at worst (50 ms made the p99 55-70 ms at every rate). Ten
            // milliseconds cost the idle server 100 empty fetches a second per broker.
            // Real brokers answer as soon as a record arrives: the default stays there.
            if configuration.bootstrapServers == nil { consumerConfiguration.maxFetchWait = .milliseconds(10) }
            let consumer = try KafkaConsumer(configuration: kafka, consumer: consumerConfiguration, logger: logger)
            lifecycle.started("timeline-consumer") { consumer.close() }
            return (producer, admin, consumer)
        }
    }

    /// Builds the services and starts the jobs, the consumers' reading and last the HTTP
    /// server, registering each with `lifecycle` (which holds the Kafka clients already).
    private init(configuration: AppConfiguration, metrics: ServerMetrics, logger: Logger, lifecycle: Lifecycle, clients: Clients) throws(AppError) {
        let (embedded, bootstrap, producer, admin, consumer) = (clients.embedded, clients.bootstrap, clients.producer, clients.admin, clients.consumer)
        let publicBootstrap = clients.publicBootstrap
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.lifecycle = lifecycle
        self.kafkaMode = embedded == nil ? .external : .embedded
        self.bootstrapServers = publicBootstrap
        let leaderboard = LeaderboardService(workshop: configuration.workshop, metrics: metrics, logger: logger)
        let generator = GeneratorControl(rate: configuration.generatorRate, seed: configuration.generatorSeed)
        let timelines = TimelineService(
            topic: configuration.timelineTopic.name, partitionCount: configuration.timelineTopic.partitions, timelineCapacity: configuration.timelineCapacity,
            recentMessages: configuration.recentMessages, logger: logger
        )
        self.timelines = timelines
        let lag = LagMonitor(
            admin: admin, topic: configuration.timelineTopic.name, group: TimelineService.groupID(instance: configuration.instanceID),
            partitionCount: configuration.timelineTopic.partitions, consumed: { [timelines] in timelines.consumedPositions }
        )

        var http = HTTPServerConfiguration()
        http.host = configuration.host
        http.port = configuration.port
        http.staticMounts = [
            .init(prefix: "/", directory: configuration.publicDirectory),
            .init(prefix: "/vendor", directory: configuration.vendorDirectory),
        ]
        // Kafka's own timeout decides a send's outcome; the HTTP deadline is a backstop.
        http.responseTimeout = configuration.sendTimeout + .seconds(2)
        http.webSocketAllowedOrigins = configuration.allowedOrigins
        http.metricsFactory = metrics.factory
        http.eventLoop = configuration.httpEventLoop

        let server = HTTPServer(configuration: http, logger: logger)
        let connected = clients.gateway.map { ConnectedClients(gateway: $0, workshop: configuration.workshop) }
        let channels = LiveChannels(hub: server.hub, service: timelines, lag: lag, leaderboard: leaderboard, clients: connected, metrics: metrics)
        // The simulated teams connect as students do: through the gateway.
        let simulation = SimulationContext(workshop: configuration.workshop, kafka: configuration.kafka(bootstrapServers: publicBootstrap), producer: producer, logger: logger)
        let simulator = configuration.makeSimulator?(simulation) ?? NoClassSimulator()
        let kafkaHealth = KafkaHealth()
        let routes = Routes(
            producer: producer, admin: admin, adminQueue: DispatchQueue(label: "streamsocial.kafka-admin"), timelines: timelines,
            usersRanking: UsersRanking(service: timelines), lag: lag, kafkaHealth: kafkaHealth, leaderboard: leaderboard, generator: generator,
            simulator: simulator, faults: FaultControl(cluster: embedded, topics: Topics.expected(workshop: configuration.workshop, timeline: configuration.timelineTopic)),
            adminToken: configuration.adminToken, teamCredentials: configuration.teamCredentials, hub: server.hub, connectedClients: connected, metrics: metrics,
            status: StatusContext(
                mode: kafkaMode, bootstrapServers: publicBootstrap, startedAt: .now, gateway: clients.gateway,
                kafkaProperties: ConfigurationSources.redacted(configuration.kafkaProperties)
            ), logger: logger
        )
        // The HTTP server starts last, so it stops first: no request reaches a part that
        // has stopped.
        lifecycle.started(Worker(name: "kafka-health", every: .seconds(1)) { _ in kafkaHealth.refresh(admin: admin) })
        lifecycle.started(Worker.once(name: "live-messages") { worker in channels.runMessages(worker) })
        lifecycle.started(Worker(name: "live-panels", every: .milliseconds(250)) { _ in channels.pushPanels() })
        if let connected {
            lifecycle.started(Worker(name: "gateway-clients", every: .seconds(1)) { _ in
                if connected.refresh(now: currentMilliseconds()) { channels.markChanged(.clients) }
            })
        }
        consumer.run { [timelines, channels, metrics, logger] event in
            switch event {
            case .record(let record):
                let applied = timelines.apply(record, now: currentSecond())
                switch applied {
                case .malformed: metrics.malformed(topic: record.topic)
                case .post:
                    // The timestamp is the producer's: any 64-bit value a student chose
                    // (Int64.min overflowed the subtraction and aborted the server, and the
                    // replay after a restart again). Live posts only, within an hour.
                    if let produced = record.timestampMilliseconds, timelines.readiness == .ready {
                        let (delay, overflow) = currentMilliseconds().subtractingReportingOverflow(produced)
                        if !overflow, (0...3_600_000).contains(delay) { metrics.postStage(.read, .milliseconds(delay)) }
                    }
                default: break
                }
                channels.publish(applied)
            case .assigned(let partitions):
                logger.info("timeline consumer assigned", metadata: ["kafka.partitions": .stringConvertible(partitions.count)])
                timelines.partitionsAssigned(partitions.map(\.partition))
            case .revoked(let partitions):
                logger.info("timeline consumer revoked", metadata: ["kafka.partitions": .stringConvertible(partitions.count)])
            case .error(let error):
                logger.warning("timeline consumer error", metadata: ["kafka.error": .string(error.description)])
            case .endOfPartition(let partition):
                timelines.reachedEnd(partition: partition.partition)
            }
        }
        // Stopping, once the HTTP server answered its last post: the consumer reads the
        // posts acknowledged last before it closes and commits. Briefly: against slow
        // brokers (300 ms round trips) it reads a few records a second per partition,
        // and a stop must stay short.
        lifecycle.started("timeline-catch-up") { [logger] in
            let unread = timelines.waitUntilAcknowledgedRead(timeout: .milliseconds(1500))
            if unread > 0 {
                logger.warning("stopping before the timeline consumer read every acknowledged post; the next start reads them", metadata: ["posts": .stringConvertible(unread)])
            }
        }
        // Recovery's first step, retried every second until Kafka tells where the log ended.
        lifecycle.started(Worker(name: "timeline-recovery", every: .seconds(1)) { worker in
            guard case .waitingForKafka = timelines.readiness else {
                worker.requestStop()
                return
            }
            do throws(KafkaError) {
                try timelines.setRecoveryTargets(from: admin, topic: configuration.timelineTopic.name)
            } catch {
                timelines.recoveryFailed(error.description)
            }
        })
        // Lag and watermarks, and the panels that move with time.
        lifecycle.started(Worker(name: "timeline-lag", every: .seconds(1)) { [logger] _ in
            let measured = lag.measure()
            for partition in lag.report.partitions {
                metrics.consumerLag(group: lag.group, topic: configuration.timelineTopic.name, partition: partition.partition, lag: partition.lag)
            }
            for partition in timelines.forgetPositionsPastEnd(measured.watermarks, readBefore: measured.readBefore) {
                logger.warning("user-timeline partition ends before where it was read: read from its start again", metadata: ["kafka.partition": .stringConvertible(partition)])
            }
            timelines.setWatermarks(measured.watermarks)
            channels.markChanged(.lag, .throughput, .partitions)
        })
        lifecycle.started(leaderboard.start(kafka: configuration.kafka(bootstrapServers: bootstrap), admin: admin, producer: producer))
        // The board's last state goes to leaderboard_state before the producer flushes, so
        // a restart continues from where this stop left it.
        lifecycle.started("leaderboard-consumer") {
            leaderboard.stop()
            leaderboard.snapshotIfDue(force: true)
        }
        let groupDescriber: (any GroupDescriber)? = clients.gateway
        lifecycle.started(Worker(name: "leaderboard-groups", every: .seconds(1)) { worker in
            leaderboard.observeGroups(admin: admin, describer: groupDescriber) { worker.isStopping }
        })
        let refusals = clients.refusals
        lifecycle.started(Worker(name: "leaderboard-publisher", every: .milliseconds(250)) { _ in
            if let refused = refusals?.take(), !refused.records.isEmpty {
                leaderboard.keylessRefused(refused.records, dropped: refused.dropped)
            }
            leaderboard.releaseHeld(force: false)
            channels.publishLeaderboard()
        })
        lifecycle.started(Worker(name: "leaderboard-snapshots", every: .milliseconds(250)) { _ in leaderboard.snapshotIfDue() })
        lifecycle.started(Self.generator(generator, producer: producer, topic: configuration.workshop.topics.newUsers, logger: logger))
        lifecycle.started("simulated-class") { simulator.stop() }
        if configuration.simulatedTeams > 0 {
            if configuration.makeSimulator == nil {
                logger.warning("this server has no simulated class: no team started", metadata: ["teams": .stringConvertible(configuration.simulatedTeams)])
            }
            simulator.resize(to: configuration.simulatedTeams)
        }
        if embedded == nil {
            // A real cluster may not have our topics yet, or have them made by hand with
            // other settings. In the background, so a cluster that is down holds up
            // neither the start nor the health checks; retried until Kafka answers.
            let topicCheck = routes.status.topicCheck
            lifecycle.started(Worker(name: "topic-check", every: .seconds(5)) { [logger] worker in
                do throws(KafkaError) {
                    let check = try Self.checkTopics(
                        Topics.expected(workshop: configuration.workshop, timeline: configuration.timelineTopic),
                        timelineTopic: configuration.timelineTopic.name, bootstrap: publicBootstrap, admin: admin, logger: logger
                    )
                    topicCheck.set(check)
                    worker.requestStop()
                } catch {
                    logger.warning("could not check the topics yet", metadata: ["kafka.error": .string(error.description)])
                }
            })
        }
        channels.prepareSnapshots()
        do {
            self.port = try server.start(router: routes.router(), webSocket: channels.events)
        } catch {
            throw .http(error)
        }
        // Stopping: no new request is taken, those in flight get their answers (a POST
        // its acknowledgement, bounded by the send timeout), then WebSockets are closed
        // with 1001 and the rest stops behind.
        lifecycle.started("http-server") { [logger, drainTimeout = configuration.sendTimeout + .seconds(1)] in
            let unanswered = server.drain(timeout: drainTimeout)
            if unanswered != 0 {
                logger.warning("stopping with requests unanswered", metadata: ["http.requests": .string(unanswered < 0 ? "unknown" : String(unanswered))])
            }
            server.stop()
        }
    }

    /// Stops every part in the reverse of the order it started: the HTTP server first
    /// (refusing new requests with `503 stopping`, answering those in flight, closing
    /// WebSockets with 1001), then the jobs and consumers (the timeline's committing its
    /// offsets, the board writing a last snapshot), then the producer (flushing) and
    /// Kafka. Blocking; bounded by the send timeout plus the producer's 5 s flush.
    public func stop() {
        lifecycle.stop { [logger] part, took in
            logger.debug("stopped", metadata: ["part": .string(part), "seconds": .stringConvertible(took.inSeconds)])
        }
    }

    /// Produces fake users to new_users at the control's rate, in 100 ms steps.
    static func generator(_ control: GeneratorControl, producer: KafkaProducer, topic: String, logger: Logger) -> Worker {
        Worker(name: "user-generator", every: .milliseconds(100)) { _ in
            for value in control.nextUsers(step: 0.1) {
                producer.send(topic: topic, key: nil, value: value) { result in
                    if case .failure(let error) = result {
                        logger.debug("generator send failed", metadata: ["kafka.error": .string(error.description)])
                    }
                }
            }
        }
    }

    /// Whether posts are taken: the replay reached the end of the log as it was at start.
    public var isReady: Bool { timelines.readiness == .ready }

    /// Waits until ``isReady`` or `timeout` passed; returns ``isReady``. Blocking.
    @discardableResult
    public func waitUntilReady(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isReady, ContinuousClock.now < deadline { usleep(10_000) }
        return isReady
    }

    /// Creates the topics missing on an external cluster, then checks each topic the
    /// server uses (partitions, cleanup policy) and logs every problem with its fix.
    /// - Throws: when Kafka does not answer metadata (the caller tries again later).
    static func checkTopics(
        _ topics: [KafkaTopicSpec], timelineTopic: String, bootstrap: String, admin: KafkaAdmin, logger: Logger
    ) throws(KafkaError) -> TopicCheck {
        let existing = try admin.metadata().partitionCounts
        var found = TopicCheck.Found(partitions: existing)
        let missing = topics.filter { existing[$0.name] == nil }
        if !missing.isEmpty {
            do throws(KafkaError) {
                for (name, outcome) in try admin.ensureTopics(missing, timeout: .seconds(5)) {
                    switch outcome {
                    case .created:
                        found.created.insert(name)
                        logger.info("created topic", metadata: ["kafka.topic": .string(name)])
                    case .refused(let reason):
                        found.creationRefused[name] = reason
                    case .existed(let partitions):
                        found.partitions[name] = partitions
                    }
                }
            } catch {
                found.creationError = error.description
            }
        }
        do throws(KafkaError) {
            (found.configs, found.configRefused) = try admin.topicConfigs(topics.map(\.name).filter { existing[$0] != nil }, timeout: .seconds(3))
        } catch {
            found.configError = error.description
        }
        let check = TopicCheck(expected: topics, found: found, bootstrap: bootstrap, timelineTopic: timelineTopic)
        for problem in check.problems {
            logger.warning("topic check: \(problem.problem)", metadata: ["kafka.topic": .string(problem.topic), "fix": .string(problem.fix)])
        }
        for note in check.notes {
            logger.info("topic check: \(note)")
        }
        if check.problems.isEmpty, check.notes.isEmpty {
            logger.info("topic check: every topic is as the server expects", metadata: ["kafka.topics": .stringConvertible(topics.count)])
        }
        return check
    }

}
