import KafkaGateway
import Timeline

/// The body of `GET /api/status`.
struct StatusReport: Encodable, Sendable {
    struct Kafka: Encodable, Sendable {
        var mode: String
        var bootstrapServers: String
        var reachable: Bool
        var error: String?
        var brokers: [Broker]
        var topics: [Topic]
        /// Whether what is written survives a restart of the server (false for the
        /// embedded cluster, which lives in memory).
        var durable: Bool
        /// What a person should know about this cluster, e.g. that it is in memory.
        var note: String?
        /// `--kafka-config` properties (and those from the environment), secrets redacted.
        var properties: [String: String] = [:]
        /// On a real cluster, what the start-up check found wrong with the topics (null
        /// until it could run, and on the embedded cluster, whose topics the server makes).
        var topicCheck: TopicCheck?

        enum CodingKeys: String, CodingKey {
            case mode, reachable, error, brokers, topics, durable, note, properties
            case bootstrapServers = "bootstrap_servers"
            case topicCheck = "topic_check"
        }
    }

    struct Broker: Encodable, Sendable {
        var id: Int32
        var host: String
        var port: Int32
    }

    struct Topic: Encodable, Sendable {
        var name: String
        var partitions: Int
    }

    /// The Kafka gateway in front of the embedded cluster (absent on a real cluster).
    struct Gateway: Encodable, Sendable {
        /// What students put in `bootstrap.servers`.
        var address: String
        var listenHost: String
        /// One per broker, in broker order.
        var ports: [Int]
        /// Who can reach it, in words.
        var reach: String
        var connections: Int
        /// How the board learns the class's consumer groups here.
        var groups: String
        /// Groups with members right now.
        var groupsObserved: Int

        init(_ gateway: KafkaGateway) {
            address = gateway.bootstrapAddress
            listenHost = gateway.configuration.listenHost
            ports = gateway.ports
            reach = KafkaGateway.reach(listening: gateway.configuration.listenHost)
            connections = gateway.registry.connections.count
            groups = "observed by the gateway"
            groupsObserved = gateway.groupListing().groups.count
        }
    }

    var version: String
    var uptimeSeconds: Double
    var kafka: Kafka
    var gateway: Gateway?
    var websocketClients: Int
    /// Frames dropped because a client's backlog was full.
    var websocketDroppedFrames: Int
    var feed: Feed
    var timelines: Timelines

    /// Whether posts are taken yet (`ready`), or why not.
    struct Timelines: Encodable, Sendable {
        var state: String
        var detail: String?

        init(readiness: TimelineRecovery.Readiness) {
            switch readiness {
            case .ready: state = "ready"
            case .joiningGroup: state = "joining_group"
            case .replaying(let remaining): state = "replaying"; detail = "\(remaining) records to go"
            case .waitingForKafka(let reason): state = "waiting_for_kafka"; detail = reason
            }
        }
    }

    struct Feed: Encodable, Sendable {
        var consumed: Int
        var malformed: Int
    }

    enum CodingKeys: String, CodingKey {
        case version, kafka, gateway, feed, timelines
        case uptimeSeconds = "uptime_seconds"
        case websocketClients = "websocket_clients"
        case websocketDroppedFrames = "websocket_dropped_frames"
    }
}
