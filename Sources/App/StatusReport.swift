/// The body of `GET /api/status`.
struct StatusReport: Encodable, Sendable {
    struct Kafka: Encodable, Sendable {
        var mode: String
        var bootstrapServers: String
        var reachable: Bool
        var error: String?
        var brokers: [Broker]
        var topics: [Topic]

        enum CodingKeys: String, CodingKey {
            case mode, reachable, error, brokers, topics
            case bootstrapServers = "bootstrap_servers"
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

    var version: String
    var uptimeSeconds: Double
    var kafka: Kafka
    var websocketClients: Int
    var feed: Feed

    struct Feed: Encodable, Sendable {
        var consumed: Int
        var malformed: Int
    }

    enum CodingKeys: String, CodingKey {
        case version, kafka, feed
        case uptimeSeconds = "uptime_seconds"
        case websocketClients = "websocket_clients"
    }
}
