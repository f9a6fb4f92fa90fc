internal import CLibWebSockets
import Foundation
public import Logging
import Synchronization
import ServerSupport

/// An HTTP/1.1 + WebSocket server on libwebsockets, on one service thread.
///
/// Routes answer through an ``HTTPResponder`` now or later from any thread (deferred
/// responses: a POST answered once Kafka acknowledged), bounded by
/// ``HTTPServerConfiguration/responseTimeout`` after which the client gets 504. GET
/// requests no route matches are served from the static mounts. WebSocket clients
/// connect on ``HTTPServerConfiguration/webSocketPath`` and are reached through ``hub``.
public final class HTTPServer: Sendable {
    public enum StartError: Error, Equatable, CustomStringConvertible {
        case cannotListen(host: String, port: Int)

        public var description: String {
            switch self {
            case .cannotListen(let host, let port): "cannot listen on \(host):\(port) (in use, or not an address of this machine)"
            }
        }
    }

    let core = ServerCore()
    private let configuration: HTTPServerConfiguration
    private let logger: Logger
    /// The bound port (kept after stop), and whether the service thread runs.
    private let state = Mutex<(port: Int?, running: Bool, eventLoop: HTTPServerConfiguration.EventLoop?)>((nil, false, nil))
    private let finished = DispatchSemaphore(value: 0)

    /// Creates a server that is not listening yet; its ``hub`` can be handed to the
    /// routes before ``start(router:webSocket:)``.
    public init(configuration: HTTPServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Sends to WebSocket clients from any thread (frames sent before start are dropped).
    public var hub: WebSocketHub { WebSocketHub(core: core) }

    /// The port the server listens on, once started.
    public var port: Int? { state.withLock { $0.port } }

    /// How the service thread waits for its sockets, once started: the configured
    /// ``HTTPServerConfiguration/eventLoop``, or `poll` when libwebsockets could not load
    /// its libev plugin.
    public var eventLoop: HTTPServerConfiguration.EventLoop? { state.withLock { $0.eventLoop } }

    /// Binds and starts the service thread; returns once the server accepts connections.
    /// Call once.
    /// - Returns: the bound port (useful with port 0).
    /// - Throws: ``StartError`` when the address cannot be bound.
    @discardableResult
    public func start(router: Router, webSocket: WebSocketEvents = .init()) throws(StartError) -> Int {
        let outcome = Mutex<Result<(port: Int, eventLoop: HTTPServerConfiguration.EventLoop), StartError>?>(nil)
        let ready = DispatchSemaphore(value: 0)
        _ = Worker.once(name: "http-service") { [self] _ in
            serve(router: router, events: webSocket) { result in
                outcome.withLock { $0 = result }
                ready.signal()
            }
            finished.signal()
        }
        ready.wait()
        switch outcome.withLock({ $0 }) {
        case .success(let started):
            state.withLock { $0 = (started.port, true, started.eventLoop) }
            return started.port
        case .failure(let error):
            finished.wait()
            throw error
        case nil:
            finished.wait()
            throw .cannotListen(host: configuration.host, port: configuration.port)
        }
    }

    /// Stops taking work and waits for what was taken: new requests get `503 stopping`
    /// (and their connection is closed), new WebSockets are refused, and requests in
    /// flight (a POST waiting for Kafka's acknowledgement) are answered as their answers
    /// come, for up to `timeout`. A connection answered keep-alive just before is given
    /// half a second to send its next request, so that it is refused, not cut. Call before ``stop()``, while whatever answers those
    /// requests still runs. Blocking.
    /// - Returns: the requests still unanswered when it returned (0: all answered; -1:
    ///   the service thread never counted them, as when it is stuck).
    @discardableResult
    public func drain(timeout: Duration) -> Int {
        guard state.withLock({ $0.running }) else { return 0 }
        core.count { $0.requestsInFlight = nil }
        core.post(.drain)
        let began = ContinuousClock.now
        let deadline = began + timeout
        while true {
            let stats = core.stats
            let left = stats.requestsInFlight
            // A client answered just before the drain gets the grace to send its next
            // request, which is then refused in words rather than cut by the close.
            if left == 0, stats.awaitedConnections == 0 || ContinuousClock.now - began >= ServiceLoop.keepAliveGrace { return 0 }
            if ContinuousClock.now >= deadline { return left ?? -1 }
            usleep(5_000)
        }
    }

    /// Closes every connection and stops the service thread. Blocking; idempotent.
    public func stop() {
        let wasRunning = state.withLock { state in
            defer { state.running = false }
            return state.running
        }
        guard wasRunning else { return }
        // The first stop closes the WebSockets with 1001 (going away); the second, at
        // most half a second later, ends the service loop whatever is left.
        core.post(.stop)
        if finished.wait(timeout: .now() + .milliseconds(500)) == .timedOut {
            core.post(.stop)
            finished.wait()
        }
    }

    /// The service thread: create the context, report the port, serve until stopped.
    private func serve(router: Router, events: WebSocketEvents, started: (Result<(port: Int, eventLoop: HTTPServerConfiguration.EventLoop), StartError>) -> Void) {
        lwsLogger.withLock { if $0 == nil { $0 = logger } }
        lws_set_log_level(LLL_ERR | LLL_WARN, lwsLogCallback)

        let loop = ServiceLoop(
            core: core, router: router,
            statics: StaticFiles(mounts: configuration.staticMounts),
            configuration: configuration, events: events, logger: logger
        )
        // C strings and the protocol table must outlive the context.
        let protocolName = strdup("streamsocial")
        let interface = Self.interface(for: configuration.host).flatMap { strdup($0) }
        let protocols = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)  // zeroed entry terminates
        defer {
            protocols.deallocate()
            free(protocolName)
            if let interface { free(interface) }
        }
        protocols[0].name = UnsafePointer(protocolName)
        protocols[0].callback = lwsCallback
        protocols[0].per_session_data_size = MemoryLayout<SessionData>.size
        protocols[0].rx_buffer_size = 0
        // Without it libwebsockets sends at most 4 KiB (its service buffer) a system call
        // and keeps the rest for the next writable pass: a 13 KiB answer took four passes,
        // a 5 KiB WebSocket frame two, each pass a wait behind every other connection's work.
        protocols[0].tx_packet_size = ServiceLoop.maxBatchBytes

        var info = lws_context_creation_info()
        info.port = Int32(configuration.port)
        info.iface = interface.map { UnsafePointer($0) }
        info.protocols = UnsafePointer(protocols)
        info.user = Unmanaged.passUnretained(loop).toOpaque()
        info.keepalive_timeout = Int32(configuration.keepAliveTimeout)
        info.max_http_header_data = UInt16(clamping: configuration.maxHeaderBytes)
        info.count_threads = 1
        info.options = UInt64(LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE)
            | UInt64(LWS_SERVER_OPTION_VALIDATE_UTF8)
        if !configuration.host.contains(":") {
            info.options |= UInt64(LWS_SERVER_OPTION_DISABLE_IPV6)
        }

        // The epoll loop is lws's libev plugin on a loop the server owns and runs.
        var eventLoop = configuration.eventLoop == .epoll ? CLibWebSockets_newEventLoop() : nil
        var created: OpaquePointer?
        if let loopPointer = eventLoop {
            var foreignLoops: [UnsafeMutableRawPointer?] = [loopPointer]
            var withEventLoop = info
            withEventLoop.options |= UInt64(LWS_SERVER_OPTION_LIBEV)
            created = foreignLoops.withUnsafeMutableBufferPointer { loops in
                withEventLoop.foreign_loops = loops.baseAddress
                return lws_create_context(&withEventLoop)
            }
            if created == nil {
                // Most likely the plugin is missing; a reason that poll() shares (the
                // address) fails again below and is reported as such.
                logger.warning("libwebsockets could not start on libev (is libwebsockets-evlib-ev installed?): trying poll()")
                CLibWebSockets_destroyEventLoop(loopPointer)
                eventLoop = nil
            }
        }
        if created == nil { created = lws_create_context(&info) }
        guard let context = created else {
            if let eventLoop { CLibWebSockets_destroyEventLoop(eventLoop) }
            started(.failure(.cannotListen(host: configuration.host, port: configuration.port)))
            return
        }
        let port = lws_get_vhost_by_name(context, "default").map { Int(lws_get_vhost_listen_port($0)) } ?? configuration.port
        guard port > 0 else {
            lws_context_destroy(context)
            if let eventLoop { CLibWebSockets_destroyEventLoop(eventLoop) }
            started(.failure(.cannotListen(host: configuration.host, port: configuration.port)))
            return
        }
        loop.context = context
        loop.countsPolls = eventLoop == nil
        let tick = eventLoop.flatMap { CLibWebSockets_startTick($0, context, Self.tickPeriod) }
        core.attach(context: context)
        started(.success((port, eventLoop == nil ? .poll : .epoll)))

        while !loop.stopping {
            loop.serviceIteration &+= 1
            if let eventLoop {
                CLibWebSockets_runEventLoopOnce(eventLoop)
            } else if lws_service(context, 0) < 0 {
                break
            }
            if loop.draining {
                core.count { [inFlight = loop.requestsInFlight, awaited = loop.awaitedConnectionCount] in
                    $0.requestsInFlight = inFlight
                    $0.awaitedConnections = awaited
                }
            }
            // Going away and every WebSocket closed: done.
            if loop.goingAway, loop.webSocketCount == 0 { break }
        }
        core.detach()
        if let eventLoop, let tick { CLibWebSockets_stopTick(eventLoop, tick) }
        lws_context_destroy(context)
        if let eventLoop {
            CLibWebSockets_runEventLoopNoWait(eventLoop)
            CLibWebSockets_destroyEventLoop(eventLoop)
        }
        loop.context = nil
        withExtendedLifetime(loop) {}
    }

    /// How late a libwebsockets timeout may fire on the epoll loop (see
    /// `CLibWebSockets_Tick`), in seconds.
    static let tickPeriod = 0.05

    /// lws binds every interface when `iface` is NULL.
    private static func interface(for host: String) -> String? {
        switch host {
        case "", "0.0.0.0", "::", "*": nil
        case "localhost": "127.0.0.1"
        default: host
        }
    }
}
