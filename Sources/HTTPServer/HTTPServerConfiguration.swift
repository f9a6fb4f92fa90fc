public import CoreMetrics

/// Where and how the server listens.
public struct HTTPServerConfiguration: Sendable {
    /// Address to bind. Default: `127.0.0.1`; `0.0.0.0` listens on every interface.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 picks a free one (read it back from ``HTTPServer/port``).
    /// Default: 8000.
    public var port: Int = 8000
    /// Folders served for GET requests no route matched.
    public var staticMounts: [StaticFiles.Mount] = []
    /// Largest request body accepted; larger ones get 413. Default: 64 KiB.
    public var maxBodySize: Int = 64 * 1024
    /// How long a handler may take to answer before the client gets 504. Default: 10 s.
    public var responseTimeout: Duration = .seconds(10)
    /// The WebSocket endpoint. Default: `/ws`.
    public var webSocketPath: String = "/ws"
    /// Browser origins (`http://host:port`) allowed to open a WebSocket besides the
    /// page's own (an `Origin` naming the `Host` the request was sent to). Clients that
    /// send no `Origin` (not browsers) are let in. Default: none.
    public var webSocketAllowedOrigins: Set<String> = []
    /// Frames queued per WebSocket client before the oldest is dropped. Frames are
    /// shared, so a slot costs a reference. Default: 1024.
    public var webSocketBacklog: Int = 1024
    /// Room for the request line and headers of one request. Longer ones cannot be
    /// parsed: libwebsockets closes the connection without a status. Default: 16 KiB.
    public var maxHeaderBytes: Int = 16 * 1024
    /// Seconds an idle keep-alive connection stays open. Default: 30.
    public var keepAliveTimeout: Int = 30
    /// Where request counts and latencies by route, and WebSocket figures, are reported
    /// (``HTTPMetrics``); nil reports nothing. Default: nil.
    public var metricsFactory: (any MetricsFactory)?
    /// How the service thread waits for its sockets. Default: ``EventLoop/epoll``.
    public var eventLoop: EventLoop = .epoll

    /// How the service thread waits for its sockets.
    public enum EventLoop: String, Sendable, CaseIterable {
        /// libev on epoll: a pass costs what is ready, not what is open, which a class
        /// of dashboards (hundreds of WebSockets) needs.
        case epoll
        /// libwebsockets' own `poll()`: every pass walks every open connection. Kept to
        /// compare against, and as the fallback when libwebsockets has no libev plugin.
        case poll
    }

    public init() {}
}
