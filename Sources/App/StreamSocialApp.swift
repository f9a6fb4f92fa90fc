import Dispatch
import Foundation
import HTTPServer
import Kafka
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
    let feedConsumer: KafkaConsumer
    let server: HTTPServer
    let feed: LiveFeed
    let startedAt = ContinuousClock.now
    /// Blocking admin calls (metadata for /healthz and /api/status) run here, never on
    /// the HTTP service thread.
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
        do {
            let bootstrap: String
            if let servers = configuration.bootstrapServers {
                bootstrap = servers
            } else {
                let cluster = try EmbeddedKafka(brokers: configuration.embeddedBrokers, topics: Topics.all, logger: logger)
                embedded = cluster
                bootstrap = cluster.bootstrapServers
            }
            let kafka = configuration.kafka(bootstrapServers: bootstrap)
            var producerConfiguration = KafkaProducerConfiguration()
            producerConfiguration.messageTimeout = configuration.sendTimeout
            producer = try KafkaProducer(configuration: kafka, producer: producerConfiguration, logger: logger)
            admin = try KafkaAdmin(configuration: kafka, logger: logger)
            consumer = try KafkaConsumer(
                configuration: kafka,
                consumer: KafkaConsumerConfiguration(mode: .assignAllFromEarliest(topics: [Topics.userTimeline.name])),
                logger: logger
            )
            guard let producer, let admin, let consumer else { throw KafkaError(.other, "unreachable") }
            let app = try StreamSocialApp(
                configuration: configuration, logger: logger, embedded: embedded, bootstrap: bootstrap,
                producer: producer, admin: admin, consumer: consumer
            )
            return app
        } catch let error as KafkaError {
            consumer?.close()
            producer?.close(flushTimeout: .zero)
            admin?.close()
            embedded?.stop()
            throw .kafka(error)
        } catch let error as AppError {
            consumer?.close()
            producer?.close(flushTimeout: .zero)
            admin?.close()
            embedded?.stop()
            throw error
        } catch {
            embedded?.stop()
            throw .kafka(KafkaError(.other, "\(error)"))
        }
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
        self.feedConsumer = consumer
        let feed = LiveFeed(capacity: configuration.recentMessages)
        self.feed = feed

        var http = HTTPServerConfiguration()
        http.host = configuration.host
        http.port = configuration.port
        http.staticMounts = [
            .init(prefix: "/", directory: configuration.publicDirectory),
            .init(prefix: "/vendor", directory: configuration.vendorDirectory),
        ]
        // Kafka's own timeout decides a send's outcome; the HTTP deadline is a backstop.
        http.responseTimeout = configuration.sendTimeout + .seconds(2)

        let server = HTTPServer(configuration: http, logger: logger)
        self.server = server
        let router = Self.makeRouter(producer: producer, admin: admin, adminQueue: adminQueue, feed: feed, hub: server.hub, status: StatusContext(
            mode: kafkaMode, bootstrapServers: bootstrap, startedAt: startedAt
        ), logger: logger)
        do {
            self.port = try server.start(router: router, webSocket: Self.webSocketEvents(feed: feed, hub: server.hub))
        } catch {
            throw .http(error)
        }
        consumer.run { [feed, logger] event in
            Self.consume(event, feed: feed, hub: server.hub, logger: logger)
        }
        if embedded == nil {
            // A real cluster may not have our topics yet. In the background, on a queue
            // of its own, so a cluster that is down holds up neither the start nor the
            // health checks.
            DispatchQueue(label: "streamsocial.topic-setup").async { [admin, logger] in
                Self.ensureTopics(admin: admin, logger: logger)
            }
        }
    }

    /// Creates missing topics on an external cluster and warns about partition counts
    /// that differ from what the dashboard expects.
    static func ensureTopics(admin: KafkaAdmin, logger: Logger) {
        do throws(KafkaError) {
            let outcomes = try admin.ensureTopics(Topics.all)
            for topic in Topics.all {
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

    /// Stops serving, then the consumers, then flushes the producer and stops Kafka.
    /// Blocking.
    public func stop() {
        server.stop()
        feedConsumer.close()
        producer.close(flushTimeout: .seconds(5))
        admin.close()
        embedded?.stop()
    }

    /// Called on the feed consumer's thread for each event.
    static func consume(_ event: KafkaConsumerEvent, feed: LiveFeed, hub: WebSocketHub, logger: Logger) {
        switch event {
        case .record(let record):
            guard let post = TimelineRecord.decode(record.value) else {
                feed.recordMalformed(partition: record.partition, offset: record.offset)
                logger.warning("malformed record in user-timeline", metadata: [
                    "kafka.partition": .stringConvertible(record.partition), "kafka.offset": .stringConvertible(record.offset),
                ])
                return
            }
            let message = feed.append(post, partition: record.partition, offset: record.offset)
            hub.broadcast(JSONCoding.string(WebSocketMessage(type: "message", channel: Channel.messages, data: message)), channel: Channel.messages)
        case .assigned(let partitions):
            logger.info("feed consumer assigned", metadata: ["kafka.partitions": .stringConvertible(partitions.count)])
        case .revoked:
            break
        case .error(let error):
            logger.warning("feed consumer error", metadata: ["kafka.error": .string(error.description)])
        }
    }

    static func webSocketEvents(feed: LiveFeed, hub: WebSocketHub) -> WebSocketEvents {
        WebSocketEvents(
            onConnect: { client in
                hub.send(JSONCoding.string(WebSocketMessage(type: "snapshot", channel: Channel.messages, data: feed.snapshot)), to: client)
            },
            onMessage: { client, text in
                guard let request = try? JSONCoding.decoder.decode(SubscribeRequest.self, from: Data(text.utf8)) else {
                    hub.send(JSONCoding.string(WebSocketMessage(type: "error", channel: "control", data: ["message": "expected {\"subscribe\": [channels]}"])), to: client)
                    return
                }
                let channels = Set(request.subscribe).intersection(Channel.all)
                hub.subscribe(client, to: channels)
                hub.send(JSONCoding.string(WebSocketMessage(type: "subscribed", channel: "control", data: channels.sorted())), to: client)
                if channels.contains(Channel.messages) {
                    hub.send(JSONCoding.string(WebSocketMessage(type: "snapshot", channel: Channel.messages, data: feed.snapshot)), to: client)
                }
            }
        )
    }
}
