import Dispatch
import Foundation
import HTTPServer
import Kafka
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

    let logger: Logger
    let embedded: EmbeddedKafka?
    let producer: KafkaProducer
    let admin: KafkaAdmin
    let timelineConsumer: KafkaConsumer
    let leaderboard: LeaderboardService
    let generator: PeriodicThread
    let boardPublisher: PeriodicThread
    let simulator: SimulatorControl
    let server: HTTPServer
    let timelines: TimelineService
    let lag: LagMonitor
    let kafkaHealth = KafkaHealth()
    let channels: LiveChannels
    let monitor: PeriodicThread
    let startedAt = ContinuousClock.now
    /// Instructor work that waits on the leaderboard (a session reset) runs here, never
    /// on the HTTP service thread.
    let adminQueue = DispatchQueue(label: "streamsocial.kafka-admin")

    /// Starts Kafka (embedded unless ``AppConfiguration/bootstrapServers`` is set), the
    /// clients and the HTTP server.
    /// - Throws: ``AppError`` naming what could not start; whatever had started is stopped.
    public static func start(_ configuration: AppConfiguration, logger: Logger) throws(AppError) -> StreamSocialApp {
        guard FileManager.default.fileExists(atPath: configuration.publicDirectory + "/index.html") else {
            throw .publicDirectoryMissing(configuration.publicDirectory)
        }
        var embedded: EmbeddedKafka?
        var producer: KafkaProducer?
        var admin: KafkaAdmin?
        var consumer: KafkaConsumer?
        var appError: AppError?
        func cleanUp() {
            consumer?.close()
            producer?.close(flushTimeout: .zero)
            admin?.close()
            embedded?.stop()
        }
        do throws(KafkaError) {
            let bootstrap: String
            if let servers = configuration.bootstrapServers {
                bootstrap = servers
            } else {
                let cluster = try EmbeddedKafka(
                    brokers: configuration.embeddedBrokers, topics: Topics.all + LeaderboardService.topics(of: configuration.workshop), logger: logger
                )
                embedded = cluster
                bootstrap = cluster.bootstrapServers
            }
            let kafka = configuration.kafka(bootstrapServers: bootstrap)
            var producerConfiguration = KafkaProducerConfiguration()
            producerConfiguration.messageTimeout = configuration.sendTimeout
            let newProducer = try KafkaProducer(configuration: kafka, producer: producerConfiguration, logger: logger)
            producer = newProducer
            let newAdmin = try KafkaAdmin(configuration: kafka, logger: logger)
            admin = newAdmin
            let consumerConfiguration = KafkaConsumerConfiguration(
                mode: .assignAllCommitting(groupID: TimelineService.groupID(instance: configuration.instanceID), topics: [Topics.userTimeline.name])
            )
            let newConsumer = try KafkaConsumer(configuration: kafka, consumer: consumerConfiguration, logger: logger)
            consumer = newConsumer
            do throws(AppError) {
                return try StreamSocialApp(
                    configuration: configuration, logger: logger, embedded: embedded, bootstrap: bootstrap,
                    producer: newProducer, admin: newAdmin, consumer: newConsumer
                )
            } catch {
                cleanUp()
                appError = error
            }
        } catch {
            cleanUp()
            throw .kafka(error)
        }
        throw appError ?? .kafka(KafkaError(.other, "start failed"))
    }

    private init(
        configuration: AppConfiguration, logger: Logger, embedded: EmbeddedKafka?, bootstrap: String,
        producer: KafkaProducer, admin: KafkaAdmin, consumer: KafkaConsumer
    ) throws(AppError) {
        self.configuration = configuration
        self.logger = logger
        self.embedded = embedded
        self.kafkaMode = embedded == nil ? .external : .embedded
        self.bootstrapServers = bootstrap
        self.producer = producer
        self.admin = admin
        self.timelineConsumer = consumer
        let leaderboard = LeaderboardService(
            workshop: configuration.workshop, generatorRate: configuration.generatorRate, seed: configuration.generatorSeed, logger: logger
        )
        self.leaderboard = leaderboard
        let timelines = TimelineService(
            partitionCount: Topics.userTimeline.partitions, timelineCapacity: configuration.timelineCapacity,
            recentMessages: configuration.recentMessages, logger: logger
        )
        self.timelines = timelines
        let lag = LagMonitor(
            admin: admin, topic: Topics.userTimeline.name, group: TimelineService.groupID(instance: configuration.instanceID),
            partitionCount: Topics.userTimeline.partitions, consumed: { [timelines] in timelines.consumedPositions }
        )
        self.lag = lag

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

        let server = HTTPServer(configuration: http, logger: logger)
        self.server = server
        let channels = LiveChannels(hub: server.hub, service: timelines, lag: lag, leaderboard: leaderboard)
        self.channels = channels
        let simulator = SimulatorControl(workshop: configuration.workshop, kafka: configuration.kafka(bootstrapServers: bootstrap), producer: producer, logger: logger)
        self.simulator = simulator
        let routes = Routes(
            producer: producer, admin: admin, adminQueue: adminQueue, timelines: timelines, lag: lag, kafkaHealth: kafkaHealth, leaderboard: leaderboard,
            simulator: simulator, faults: FaultControl(cluster: embedded, topics: Topics.all + LeaderboardService.topics(of: configuration.workshop)),
            adminToken: configuration.adminToken, hub: server.hub,
            status: StatusContext(mode: kafkaMode, bootstrapServers: bootstrap, startedAt: startedAt), logger: logger
        )
        do {
            self.port = try server.start(router: routes.router(), webSocket: channels.events)
        } catch {
            throw .http(error)
        }
        kafkaHealth.start(admin: admin)
        channels.start()
        consumer.run { [timelines, channels, logger] event in
            switch event {
            case .record(let record):
                channels.publish(timelines.apply(record, now: currentSecond()))
            case .assigned(let partitions):
                logger.info("timeline consumer assigned", metadata: ["kafka.partitions": .stringConvertible(partitions.count)])
                timelines.partitionsAssigned()
            case .revoked(let partitions):
                logger.info("timeline consumer revoked", metadata: ["kafka.partitions": .stringConvertible(partitions.count)])
            case .error(let error):
                logger.warning("timeline consumer error", metadata: ["kafka.error": .string(error.description)])
            case .endOfPartition:
                break
            }
        }
        leaderboard.start(kafka: configuration.kafka(bootstrapServers: bootstrap), admin: admin, producer: producer)
        generator = Self.startGenerator(leaderboard.generator, producer: producer, topic: configuration.workshop.topics.newUsers, logger: logger)
        if configuration.simulatedTeams > 0 {
            simulator.resize(to: configuration.simulatedTeams)
        }
        boardPublisher = PeriodicThread(name: "leaderboard", interval: .milliseconds(250)) { [leaderboard, channels] in
            leaderboard.releaseHeld(force: false)
            leaderboard.snapshotIfDue()
            channels.publishLeaderboard()
        }
        // Every second: finish recovery's first step if Kafka was away, measure lag and
        // watermarks, refresh the panels that move with time, watch the teams' groups.
        monitor = PeriodicThread(name: "kafka-monitor", interval: .seconds(1)) { [timelines, lag, channels, admin, leaderboard, logger] in
            leaderboard.observeGroups(admin: admin)
            if case .waitingForKafka = timelines.readiness {
                do throws(KafkaError) {
                    try timelines.setRecoveryTargets(from: admin, topic: Topics.userTimeline.name)
                } catch {
                    timelines.recoveryFailed(error.description)
                }
            }
            let watermarks = lag.measure()
            for partition in timelines.forgetPositionsPastEnd(watermarks) {
                logger.warning("user-timeline partition ends before where it was read: read from its start again", metadata: ["kafka.partition": .stringConvertible(partition)])
            }
            timelines.analyzer.withLock { analyzer in
                for (partition, marks) in watermarks { analyzer.setWatermarks(partition: partition, low: marks.low, high: marks.high) }
            }
            channels.markChanged(.lag, .throughput, .partitions)
        }
        if embedded == nil {
            // A real cluster may not have our topics yet. In the background, on a queue
            // of its own, so a cluster that is down holds up neither the start nor the
            // health checks.
            DispatchQueue(label: "streamsocial.topic-setup").async { [admin, logger] in
                Self.ensureTopics(Topics.all + LeaderboardService.topics(of: configuration.workshop), admin: admin, logger: logger)
            }
        }
    }

    /// Stops serving, then the consumers, then flushes the producer and stops Kafka.
    /// Blocking.
    public func stop() {
        server.stop()
        kafkaHealth.stop()
        monitor.stop()
        simulator.stop()
        generator.stop()
        boardPublisher.stop()
        channels.stop()
        timelineConsumer.close()
        leaderboard.stop()
        producer.close(flushTimeout: .seconds(5))
        admin.close()
        embedded?.stop()
    }

    /// Produces fake users to new_users at the control's rate, in 100 ms steps.
    static func startGenerator(_ control: GeneratorControl, producer: KafkaProducer, topic: String, logger: Logger) -> PeriodicThread {
        let owed = Mutex(0.0)
        return PeriodicThread(name: "user-generator", interval: .milliseconds(100)) {
            let settings = control.settings.withLock { $0 }
            guard !settings.paused, settings.rate > 0 else { return }
            let count = owed.withLock { owed -> Int in
                owed += settings.rate / 10
                let whole = Int(owed)
                owed -= Double(whole)
                return whole
            }
            for _ in 0..<count {
                let value = control.users.withLock { $0.next() }
                producer.send(topic: topic, key: nil, value: value) { result in
                    if case .failure(let error) = result {
                        logger.debug("generator send failed", metadata: ["kafka.error": .string(error.description)])
                    }
                }
            }
            control.settings.withLock { $0.produced += count }
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

    /// Creates missing topics on an external cluster and warns about partition counts
    /// that differ from what the dashboard expects.
    static func ensureTopics(_ topics: [KafkaTopicSpec], admin: KafkaAdmin, logger: Logger) {
        do throws(KafkaError) {
            let outcomes = try admin.ensureTopics(topics)
            for topic in topics {
                switch outcomes[topic.name] {
                case .created:
                    logger.info("created topic", metadata: ["kafka.topic": .string(topic.name), "kafka.partitions": .stringConvertible(topic.partitions)])
                case .existed(let partitions) where partitions != topic.partitions:
                    logger.warning("topic has another partition count than expected", metadata: [
                        "kafka.topic": .string(topic.name), "kafka.partitions": .stringConvertible(partitions),
                        "expected": .stringConvertible(topic.partitions),
                    ])
                default:
                    break
                }
            }
        } catch {
            logger.warning("could not check or create topics", metadata: ["kafka.error": .string(error.description)])
        }
    }

}
