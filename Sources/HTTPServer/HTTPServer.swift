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
    private let state = Mutex<(port: Int?, running: Bool)>((nil, false))
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

    /// Binds and starts the service thread; returns once the server accepts connections.
    /// Call once.
    /// - Returns: the bound port (useful with port 0).
    /// - Throws: ``StartError`` when the address cannot be bound.
    @discardableResult
    public func start(router: Router, webSocket: WebSocketEvents = .init()) throws(StartError) -> Int {
        let outcome = Mutex<Result<Int, StartError>?>(nil)
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
        case .success(let port):
            state.withLock { $0 = (port, true) }
            return port
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
    /// come, for up to `timeout`. Call before ``stop()``, while whatever answers those
    /// requests still runs. Blocking.
    /// - Returns: the requests still unanswered when it returned (0: all answered; -1:
    ///   the service thread never counted them, as when it is stuck).
    @discardableResult
    public func drain(timeout: Duration) -> Int {
        guard state.withLock({ $0.running }) else { return 0 }
        core.count { $0.requestsInFlight = nil }
        core.post(.drain)
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = core.stats.requestsInFlight
            if left == 0 { return 0 }
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
    private func serve(router: Router, events: WebSocketEvents, started: (Result<Int, StartError>) -> Void) {
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

        guard let context = lws_create_context(&info) else {
            started(.failure(.cannotListen(host: configuration.host, port: configuration.port)))
            return
        }
        let port = lws_get_vhost_by_name(context, "default").map { Int(lws_get_vhost_listen_port($0)) } ?? configuration.port
        guard port > 0 else {
            lws_context_destroy(context)
            started(.failure(.cannotListen(host: configuration.host, port: configuration.port)))
            return
        }
        loop.context = context
        core.attach(context: context)
        started(.success(port))

        while !loop.stopping {
            loop.serviceIteration &+= 1
            if lws_service(context, 0) < 0 { break }
            if loop.draining { core.count { [inFlight = loop.requestsInFlight] in $0.requestsInFlight = inFlight } }
            // Going away and every WebSocket closed: done.
            if loop.goingAway, loop.webSocketCount == 0 { break }
        }
        core.detach()
        lws_context_destroy(context)
        loop.context = nil
        withExtendedLifetime(loop) {}
    }

    /// lws binds every interface when `iface` is NULL.
    private static func interface(for host: String) -> String? {
        switch host {
        case "", "0.0.0.0", "::", "*": nil
        case "localhost": "127.0.0.1"
        default: host
        }
    }
}
