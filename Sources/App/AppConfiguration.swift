public import HTTPServer
public import Kafka
public import Leaderboard

/// Everything `streamsocial serve` can be told, with the defaults a newcomer needs.
public struct AppConfiguration: Sendable {
    /// Address the HTTP server binds. Default: `0.0.0.0` (students reach it over the LAN).
    public var host: String = "0.0.0.0"
    /// Default: 8000.
    public var port: Int = 8000
    /// A real cluster's `bootstrap.servers`; `nil` starts the embedded cluster.
    public var bootstrapServers: String?
    /// librdkafka properties passed through to every client (`security.protocol`, `sasl.*`, …).
    public var kafkaProperties: [String: String] = [:]
    /// Brokers of the embedded cluster. Default: 3.
    public var embeddedBrokers: Int = 3
    /// Where the Kafka gateway in front of the embedded cluster listens for the class's
    /// clients, one port per broker from `kafkaListenPort` on (the next free range when
    /// taken; 0: any free ports). Default: `0.0.0.0:9092`, reachable over the LAN.
    public var kafkaListenHost: String = "0.0.0.0"
    public var kafkaListenPort: Int = 9092
    /// The host the gateway tells clients to connect to. Default (nil): the listen host,
    /// or for `0.0.0.0` this machine's first non-loopback IPv4 address (else `localhost`).
    public var kafkaAdvertisedHost: String?
    /// The dashboard's folder. Default: `Public`.
    public var publicDirectory: String = "Public"
    /// Served under `/vendor/` (Chart.js from Debian's libjs-chart.js).
    public var vendorDirectory: String = "/usr/share/javascript"
    /// Upper bound on each produce (`message.timeout.ms`). Default: 5 s.
    public var sendTimeout: Duration = .seconds(5)
    /// Messages the live feed keeps for new WebSocket clients. Default: 50.
    public var recentMessages: Int = 50
    /// The workshop the leaderboard judges. Default: the tutorial's fifteen teams.
    public var workshop: Workshop = .default
    /// How the HTTP server waits for its sockets. Default: epoll.
    public var httpEventLoop: HTTPServerConfiguration.EventLoop = .epoll
    /// Fake users produced to new_users per second (0: paused). Default: 10.
    public var generatorRate: Double = 10
    /// Seed of the fake users. Default: 1.
    public var generatorSeed: UInt64 = 1
    /// Simulated teams to run as real Kafka clients (0: none). Default: 0.
    public var simulatedTeams: Int = 0
    /// Builds the simulated class once the cluster is known; `nil`: a server without one
    /// (the instructor's simulator controls answer that it has no team).
    public var makeSimulator: (@Sendable (SimulationContext) -> any ClassSimulator)?
    /// Bearer token for `/api/admin/...`; nil disables those routes.
    public var adminToken: String?
    /// The teams' Kafka passwords on a secured cluster, for the join page behind the
    /// instructor's token (`GET /api/admin/credentials`). Default: none.
    public var teamCredentials: TeamCredentials?
    /// The topic posts go to and timelines are rebuilt from, with its partition count.
    /// Default: `user-timeline`, 6 partitions.
    public var timelineTopic: KafkaTopicSpec = Topics.userTimeline
    /// Newest posts kept per user's timeline. Default: 100.
    public var timelineCapacity: Int = 100
    /// Names this server's own consumer group (`timeline-consumer-group-<id>`), so two
    /// servers on one cluster, or a student reusing a name they saw on the dashboard,
    /// never share its offsets. Default: random per start.
    public var instanceID: String = String(UInt32.random(in: 0...UInt32.max), radix: 16)
    /// Browser origins besides the dashboard's own that may open its WebSocket
    /// (`http://host:port`). Default: none.
    public var allowedOrigins: Set<String> = []

    public init() {}

    /// How the Kafka clients reach the cluster once it is known.
    func kafka(bootstrapServers: String) -> KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: bootstrapServers, clientID: "streamsocial", properties: kafkaProperties)
    }
}

/// The topics StreamSocial uses, with the partition counts the embedded cluster creates.
public enum Topics {
    public static let userTimeline = KafkaTopicSpec("user-timeline", partitions: 6)
    public static let all = [userTimeline]

    /// Every topic the server reads or writes for `workshop`, with the settings it
    /// expects: what `streamsocial print-topics` shows and docker/create-topics.sh creates.
    public static func expected(workshop: Workshop, timeline: KafkaTopicSpec = userTimeline) -> [KafkaTopicSpec] {
        LeaderboardService.topics(of: workshop) + [timeline]
    }
}
