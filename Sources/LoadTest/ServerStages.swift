/// The server's own measure of each stage of a post's way to the screen during a run,
/// from its Prometheus histograms (`GET /metrics`) before and after: the acknowledgement,
/// the read by the timeline consumer, the frame window and the write to the socket. A
/// quantile is the bucket bound it falls under ("≤ 20 ms"): the server keeps buckets, not
/// samples.
public struct ServerStages: Sendable, Codable {
    public struct Stage: Sendable, Codable, Equatable {
        public var name: String
        public var count: Int
        /// Milliseconds: the bucket bounds the 50th and 99th percentiles and the slowest
        /// fall under (nil: above the last bound).
        public var p50: Double?
        public var p99: Double?
        public var max: Double?
    }

    public var stages: [Stage]

    /// Cumulative bucket counts per stage: stage → (bound in seconds → count).
    public typealias Buckets = [String: [Double: Double]]

    /// The stages and the series that hold them, in the order a post meets them.
    static let series: [(stage: String, metric: String, label: String?)] = [
        ("ack", "streamsocial_post_stage_seconds", "ack"),
        ("read", "streamsocial_post_stage_seconds", "read"),
        ("frame", "streamsocial_post_stage_seconds", "frame"),
        ("socket", "websocket_frame_delay_seconds", nil),
    ]

    /// Reads the server's histograms now.
    public static func scrape(host: String, port: Int) throws -> Buckets {
        let connection = try HTTPConnection(port: port, host: host)
        defer { connection.close() }
        let response = try connection.get("/metrics")
        guard response.status == 200 else { throw HTTPClientError("GET /metrics: \(response.status)") }
        return parse(response.text)
    }

    /// The stage histograms' buckets in a Prometheus text exposition.
    public static func parse(_ text: String) -> Buckets {
        var buckets: Buckets = [:]
        for line in text.split(separator: "\n") {
            for (stage, metric, label) in series {
                let prefix = metric + "_bucket{"
                guard line.hasPrefix(prefix), let close = line.lastIndex(of: "}") else { continue }
                let labels = Self.labels(line[line.index(line.startIndex, offsetBy: prefix.count)..<close])
                guard labels["stage"] == label, let bound = labels["le"].flatMap(Self.bound),
                      let value = Double(line[line.index(after: close)...].drop { $0 == " " })
                else { continue }
                buckets[stage, default: [:]][bound] = value
            }
        }
        return buckets
    }

    /// What happened between two scrapes.
    public init(before: Buckets, after: Buckets) {
        stages = Self.series.map { stage, _, _ in
            let earlier = before[stage] ?? [:]
            let delta = (after[stage] ?? [:]).reduce(into: [Double: Double]()) { delta, bucket in
                delta[bucket.key] = bucket.value - (earlier[bucket.key] ?? 0)
            }
            let total = delta[.infinity] ?? 0
            func quantile(_ fraction: Double) -> Double? {
                guard total > 0 else { return nil }
                let bound = delta.keys.sorted().first { delta[$0, default: 0] >= fraction * total }
                return bound.flatMap { $0.isFinite ? $0 * 1000 : nil }
            }
            return Stage(name: stage, count: Int(total), p50: quantile(0.5), p99: quantile(0.99), max: quantile(1))
        }
    }

    private static func labels(_ text: Substring) -> [String: String] {
        var labels: [String: String] = [:]
        for pair in text.split(separator: ",") {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let quoted = pair[pair.index(after: equals)...]
            guard quoted.count >= 2, quoted.first == "\"", quoted.last == "\"" else { continue }
            labels[String(pair[..<equals])] = String(quoted.dropFirst().dropLast())
        }
        return labels
    }

    private static func bound(_ text: String) -> Double? {
        text == "+Inf" ? .infinity : Double(text)
    }
}
