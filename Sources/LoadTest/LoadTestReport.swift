/// What a load test measured and verified.
public struct LoadTestReport: Sendable, Codable {
    public struct Verification: Sendable, Codable {
        /// Acknowledged posts the server's timelines do not count.
        public var lost: Int
        /// Ordering violations reported for the test's users.
        public var violations: Int
        /// Users whose newest posts in the timeline are not the newest acknowledged, in order.
        public var usersOutOfOrder: Int
        /// Whether the server had consumed everything before the verification gave up.
        public var complete: Bool
    }

    public var requests: Int
    public var acknowledged: Int
    public var errors: Int
    public var errorsByStatus: [String: Int]
    public var seconds: Double
    public var requestsPerSecond: Double
    public var latency: LatencySummary
    /// Post sent → its message frame received, for posts seen on the WebSocket.
    public var webSocketLatency: LatencySummary?
    /// Acknowledged posts never seen on the WebSocket.
    public var webSocketMissing: Int?
    /// The server's stages of a post's way to the screen during the run (with the
    /// WebSocket watch, from servers that have `/metrics`).
    public var serverStages: ServerStages?
    /// What the crowd of reading WebSocket clients saw, when there was one.
    public var webSocketCrowd: WebSocketCrowd.Report?
    public var verification: Verification?

    /// The report as people read it.
    public var text: String {
        var lines = [
            "requests      \(requests) in \(format(seconds)) s: \(format(requestsPerSecond)) req/s",
            "acknowledged  \(acknowledged), errors \(errors)" + (errorsByStatus.isEmpty ? "" : " \(errorsByStatus.sorted { $0.key < $1.key })"),
            "latency ms    p50 \(format(latency.p50))  p90 \(format(latency.p90))  p99 \(format(latency.p99))  max \(format(latency.max))",
        ]
        if let ws = webSocketLatency {
            lines.append("websocket ms  p50 \(format(ws.p50))  p90 \(format(ws.p90))  p99 \(format(ws.p99))  max \(format(ws.max))  (\(ws.count) seen, \(webSocketMissing ?? 0) missing)")
        }
        if let crowd = webSocketCrowd {
            lines.append("crowd         \(crowd.connected) of \(crowd.clients) WebSocket clients connected, \(crowd.closedByServer) closed by the server, \(format(Double(crowd.bytes) / 1_048_576)) MiB read in \(format(crowd.seconds)) s")
        }
        if let serverStages {
            let stages = serverStages.stages.map { stage in
                "\(stage.name) p50 \(bound(stage.p50)) p99 \(bound(stage.p99)) max \(bound(stage.max))"
            }
            lines.append("server stages ms (bucket bounds): " + stages.joined(separator: " · "))
        }
        if let verification {
            lines.append("verified      lost \(verification.lost), violations \(verification.violations), users out of order \(verification.usersOutOfOrder)" + (verification.complete ? "" : " (INCOMPLETE: the server had not consumed everything)"))
        }
        return lines.joined(separator: "\n")
    }

    private func bound(_ value: Double?) -> String {
        value.map { "≤" + format($0) } ?? "–"
    }

    private func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
