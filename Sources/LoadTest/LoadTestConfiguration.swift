/// What `streamsocial load-test` does.
public struct LoadTestConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Distinct users; post i belongs to user i mod users.
    public var users: Int = 10
    /// Posts to send.
    public var messages: Int = 20_000
    /// Parallel keep-alive connections.
    public var concurrency: Int = 50
    /// `user`, `none` or `random`.
    public var keyStrategy: String = "user"
    /// Target posts per second over all connections; nil sends as fast as answers come.
    public var rate: Double?
    /// Subscribe to the `messages` channel and measure post → WebSocket latency.
    public var watchWebSocket: Bool = false
    /// WebSocket clients subscribed to every channel and reading throughout the run (the
    /// watcher, with the WebSocket watch, subscribes to every channel too then).
    public var webSocketCrowd: Int = 0
    /// Verify through the API that every acknowledged post reached its timeline.
    public var verify: Bool = true
    /// Users are named `<prefix>-<n>`; a fresh prefix per run keeps runs apart.
    public var userPrefix: String = "load-\(UInt32.random(in: 0...UInt32.max))"

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `http://host:port` (path ignored).
    public static func parse(url: String) -> (host: String, port: Int)? {
        var rest = Substring(url)
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        let parts = rest.split(separator: ":")
        guard let first = parts.first, !first.isEmpty else { return nil }
        let host = first == "localhost" ? "127.0.0.1" : String(first)
        guard parts.count <= 2 else { return nil }
        guard parts.count == 2 else { return (host, 80) }
        guard let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
        return (host, port)
    }
}
