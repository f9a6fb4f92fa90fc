import CoreMetrics
import Leaderboard
public import Prometheus
import ServerSupport
import Synchronization

/// The server's figures in Prometheus' text format, for `GET /metrics`: one registry per
/// running app (tests run several in one process), filled through swift-metrics by the
/// HTTP server and the producer (``factory``) and by the board and the consumers here.
///
/// Every label value comes from a fixed set: route patterns, topic names the server
/// reads, the workshop's teams (any other team name a record carries is `unknown`),
/// outcome names. A student who forges records can move the counts, never add series.
public final class ServerMetrics: Sendable {
    /// What ``render()`` prints.
    public let registry = PrometheusCollectorRegistry()
    /// For the parts that report through swift-metrics.
    public let factory: PrometheusMetricsFactory
    private let teams: Set<String>
    /// A post's way to the screen, stage by stage (``PostStage``).
    private let stages: [PostStage: CoreMetrics.Timer]
    private let counters = Mutex<[Series: CoreMetrics.Counter]>([:])
    private let gauges = Mutex<[Series: CoreMetrics.Gauge]>([:])

    private struct Series: Hashable {
        var name: String
        var labels: [String]
    }

    /// `teams`: the workshop's team names, the only ones used as labels.
    public init(teams: [String]) {
        self.teams = Set(teams)
        var factory = PrometheusMetricsFactory(registry: registry)
        // Most answers take well under a millisecond; the default buckets start at 5 ms.
        let fine: [Duration] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(20), .milliseconds(30), .milliseconds(40), .milliseconds(50), .milliseconds(75), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        for label in ["http_request_duration_seconds", "websocket_frame_delay_seconds", Self.postStageLabel] {
            factory.durationHistogramBuckets[label] = fine
        }
        self.factory = factory
        stages = Dictionary(uniqueKeysWithValues: PostStage.allCases.map { stage in
            (stage, CoreMetrics.Timer(label: Self.postStageLabel, dimensions: [("stage", stage.rawValue)], factory: factory))
        })
    }

    /// The registry as Prometheus' text exposition format.
    public func render() -> [UInt8] {
        registry.emitToBuffer()
    }

    // MARK: What the server reports

    static let postStageLabel = "streamsocial_post_stage_seconds"

    /// The stages of a post's way from its POST to the dashboards; the last one, from
    /// the frame to the socket, is the HTTP server's `websocket_frame_delay_seconds`.
    enum PostStage: String, CaseIterable, Sendable {
        /// From handing the record to the producer to the brokers' acknowledgement.
        case ack
        /// From the record's timestamp (set when it was produced) to the timeline
        /// consumer reading it: the acknowledgement and the fetch (millisecond clock).
        case read
        /// From the post applied to its `messages` frame made (the frame window).
        case frame
    }

    /// One post spent `duration` in `stage`.
    func postStage(_ stage: PostStage, _ duration: Duration) {
        stages[stage]?.recordNanoseconds(duration.wholeNanoseconds)
    }

    /// An `actions` record the board judged.
    func judged(topic: String, _ outcome: LeaderboardState.ActionOutcome) {
        let (team, label): (String?, String) = switch outcome {
        case .valid(let team): (team, "valid")
        case .redelivery(let team): (team, "redelivery")
        case .mistake(let mistake, let team): (team, mistake.rawValue)
        case .beforeSession: (nil, "before_session")
        }
        judged(topic: topic, team: team, outcome: label)
        if case .mistake(.parseError, _) = outcome { malformed(topic: topic) }
    }

    /// A `team_stats` or `watchlist` record the board read.
    func judged(topic: String, _ outcome: LeaderboardState.KeyedOutcome) {
        switch outcome {
        case .judged(let team, let check): judged(topic: topic, team: team, outcome: "key_\(check.rawValue)")
        case .beforeSession: judged(topic: topic, team: nil, outcome: "before_session")
        case .notATeam: judged(topic: topic, team: nil, outcome: "not_a_team")
        case .malformed:
            judged(topic: topic, team: nil, outcome: "malformed")
            malformed(topic: topic)
        }
    }

    /// A record without a key the gateway refused on a compacted topic.
    func refused(topic: String, team: String?) {
        judged(topic: topic, team: team, outcome: "refused")
    }

    private func judged(topic: String, team: String?, outcome: String) {
        let team = team.flatMap { teams.contains($0) ? $0 : nil } ?? "unknown"
        counter("streamsocial_records_judged_total", [("topic", topic), ("team", team), ("outcome", outcome)]).increment()
    }

    /// A record that could not be read as what its topic holds.
    func malformed(topic: String) {
        counter("streamsocial_malformed_records_total", [("topic", topic)]).increment()
    }

    /// How far `group` is behind the end of `topic`'s `partition`.
    func consumerLag(group: String, topic: String, partition: Int32, lag: Int64) {
        gauge("kafka_consumer_lag", [("group", group), ("topic", topic), ("partition", String(partition))]).record(lag)
    }

    private func counter(_ name: String, _ labels: [(String, String)]) -> CoreMetrics.Counter {
        handle(name, labels, in: counters) { CoreMetrics.Counter(label: name, dimensions: labels, factory: factory) }
    }

    private func gauge(_ name: String, _ labels: [(String, String)]) -> CoreMetrics.Gauge {
        handle(name, labels, in: gauges) { CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory) }
    }

    /// The kept handle for a series, made (outside the lock: the registry has its own)
    /// the first time.
    private func handle<Handle: Sendable>(
        _ name: String, _ labels: [(String, String)], in store: borrowing Mutex<[Series: Handle]>, make: () -> Handle
    ) -> Handle {
        let series = Series(name: name, labels: labels.map(\.1))
        if let known = store.withLock({ $0[series] }) { return known }
        let made = make()
        return store.withLock { handles in
            if let raced = handles[series] { return raced }
            handles[series] = made
            return made
        }
    }
}
