import ServerSupport
internal import CLibWebSockets
import Foundation
import Logging

/// Per-connection memory owned by libwebsockets (zeroed, sized in the protocol table):
/// trivial fields only. Ids, never pointers, link it to Swift state.
struct SessionData {
    var requestID: UInt64
    var clientID: UInt64
    /// `HTTP_BODY_COMPLETION`s seen for `requestID`: more than one is libwebsockets 4.1's
    /// pipelined-body loop (see ``ServiceLoop/completeBody(session:)``).
    var bodyCompletions: UInt32
}

/// The deadline timer's callback, on the service thread.
private let deadlineTimerFired: @convention(c) (UnsafeMutablePointer<lws_sorted_usec_list_t>?) -> Void = { node in
    // The node is the first field of its CLibWebSockets_ContextTimer.
    guard let node, let context = UnsafeMutableRawPointer(node).assumingMemoryBound(to: CLibWebSockets_ContextTimer.self).pointee.context,
          let opaque = lws_context_user(context) else { return }
    Unmanaged<ServiceLoop>.fromOpaque(opaque).takeUnretainedValue().checkDeadlines()
}

/// Everything the service thread owns. Not `Sendable`, and never shared: libwebsockets
/// calls back on its single service thread only (Debian's build has `LWS_MAX_SMP 1`),
/// and callbacks reach this object through `lws_context_user` + `Unmanaged`.
final class ServiceLoop {
    /// A request from its headers to its answer's write. A class: it changes state
    /// several times and its body grows in place, with no copy of its fields each time.
    final class PendingRequest {
        enum State {
            case receivingBody
            /// The handler runs; it has until `deadline`.
            case handling(deadline: ContinuousClock.Instant)
            case ready(HTTPResponse)
        }

        let wsi: OpaquePointer
        var request: HTTPRequest
        var route: Router.Route?
        var state: State
        /// Close the connection once the response is written: the request's body cannot
        /// be told apart from the next request (no usable length).
        var closeAfter = false
        /// The route's pattern, or ``HTTPMetrics/unmatched``: the metrics' label.
        var label: String
        let startedAt: ContinuousClock.Instant

        init(wsi: OpaquePointer, request: HTTPRequest, route: Router.Route?, state: State, closeAfter: Bool = false, label: String, startedAt: ContinuousClock.Instant) {
            self.wsi = wsi
            self.request = request
            self.route = route
            self.state = state
            self.closeAfter = closeAfter
            self.label = label
            self.startedAt = startedAt
        }
    }

    struct Client {
        let wsi: OpaquePointer
        var backlog: WebSocketBacklog<WebSocketFrame>
        var channels: Set<String>?
        var incoming: [UInt8] = []
        /// The client sent a close frame: nothing more is written to it but lws's answer.
        var closing = false
        /// A write straight from a broadcast failed; its writable callback closes it.
        var failed = false
    }

    let core: ServerCore
    let router: Router
    let statics: StaticFiles
    let configuration: HTTPServerConfiguration
    let events: WebSocketEvents
    let logger: Logger
    let metrics: HTTPMetrics?

    var context: OpaquePointer?
    var stopping = false
    /// Stopping, with WebSockets still open: each is closed with 1001 (going away) as it
    /// becomes writable; the loop ends once none is left or at the second `.stop`.
    private(set) var goingAway = false
    /// Stopping soon: new requests get `503 stopping`, new WebSockets are refused, and
    /// ``HTTPServer/drain(timeout:)`` waits for ``requestsInFlight`` to reach 0.
    private(set) var draining = false
    /// Requests taken and not answered yet (a body still arriving included).
    var requestsInFlight: Int { requests.count }
    /// WebSockets still open.
    var webSocketCount: Int { clients.count }
    /// Counts `lws_service` calls: tells a request read from libwebsockets' buffer list
    /// (pipelined) from one read off the socket (see ``isPipelined(wsi:)``). Only on
    /// the `poll()` loop: on the epoll loop a pipelined request and a fresh one are both
    /// parsed two iterations after the previous response.
    var serviceIteration: UInt64 = 0
    /// Whether `serviceIteration` counts `lws_service` passes (the `poll()` loop).
    var countsPolls = true
    /// When each kept-alive connection's last response was written: the service pass
    /// and the time. Keyed by wsi because per-session memory is reallocated with every
    /// transaction; removed in `WSI_DESTROY`, so a reused address never finds a stale
    /// entry.
    private var lastResponses: [OpaquePointer: LastResponse] = [:]
    private struct LastResponse {
        var iteration: UInt64
        var at: ContinuousClock.Instant
    }
    /// While draining: connections answered keep-alive within ``keepAliveGrace`` before
    /// the drain began and quiet since. Their clients are most likely about to send the
    /// next request (a client in a loop reads its answer and writes at once): the drain
    /// waits for it, up to the grace, so it is answered `503 stopping` instead of meeting
    /// the close. Nothing in HTTP/1.1 can tell an idle client not to send; this narrows
    /// the race to clients quiet for longer than the grace.
    private var awaitedConnections: Set<OpaquePointer> = []
    /// See ``awaitedConnections``.
    static let keepAliveGrace: Duration = .milliseconds(500)
    /// Kept-alive connections the drain still waits for (see ``awaitedConnections``).
    var awaitedConnectionCount: Int { awaitedConnections.count }
    private var nextID: UInt64 = 1
    /// Each channel's kept snapshot, in the order channels first kept one (the order a
    /// new client is sent them).
    private var snapshots: [(channel: String, frame: WebSocketFrame)] = []
    private var requests: [UInt64: PendingRequest] = [:]
    private var clients: [UInt64: Client] = [:]
    private var scratch: [UInt8] = []
    /// The frames of the batch being written (``writeBatch(startingWith:for:on:)``), kept
    /// to spare an allocation per send.
    private var batch: [WebSocketFrame] = []

    init(core: ServerCore, router: Router, statics: StaticFiles, configuration: HTTPServerConfiguration, events: WebSocketEvents, logger: Logger) {
        self.core = core
        self.router = router
        self.statics = statics
        self.configuration = configuration
        self.events = events
        self.logger = logger
        self.metrics = configuration.metricsFactory.map(HTTPMetrics.init)
    }

    private func makeID() -> UInt64 {
        defer { nextID &+= 1 }
        return nextID
    }

    // MARK: HTTP

    /// `LWS_CALLBACK_HTTP`: headers are in. Answer at once, or wait for the body.
    func beginRequest(wsi: OpaquePointer, session: UnsafeMutablePointer<SessionData>, path: String) -> Int32 {
        let id = makeID()
        let startedAt = ContinuousClock.now
        session.pointee.requestID = id
        session.pointee.bodyCompletions = 0
        guard let method = Self.method(of: wsi) else {
            return startResponse(id: id, wsi: wsi, request: HTTPRequest(method: .get, path: path), response: HTTPError(status: 405, code: "method_not_allowed", message: "unsupported method").response, startedAt: startedAt)
        }
        var request = HTTPRequest(method: method, path: path, query: Self.query(of: wsi), headers: Self.headers(of: wsi))
        if draining {
            awaitedConnections.remove(wsi)
            return startResponse(id: id, wsi: wsi, request: request, response: Self.stopping.response, startedAt: startedAt, closeAfter: true)
        }
        if method.hasBody, request.headers.contentLength.flatMap(RequestFraming.contentLength) ?? 0 > 0, isPipelined(wsi: wsi) {
            // libwebsockets 4.1.6 would hand this body the start of its own request line
            // and then loop on HTTP_BODY_COMPLETION forever (lws_http_action reads the
            // buffer list from its head); refusing here, before any body callback, is the
            // one way out that closes the connection once.
            _ = write(Self.pipelinedBody.response, on: wsi)
            metrics?.answered(route: HTTPMetrics.unmatched, method: method, status: Self.pipelinedBody.status, startedAt: startedAt)
            return -1
        }
        if let refusal = RequestFraming.error(method: method, path: path, headers: request.headers, hasTransferEncoding: lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
            return startResponse(id: id, wsi: wsi, request: request, response: refusal.response, startedAt: startedAt, closeAfter: method.hasBody)
        }
        switch router.match(method, path) {
        case .found(let route, let parameters):
            request.pathParameters = parameters
            if route.body == .json, method.hasBody {
                if let type = request.headers.contentType, Self.isJSON(type) {
                } else {
                    return startResponse(id: id, wsi: wsi, request: request, response: HTTPError.unsupportedMediaType(request.headers.contentType).response, label: route.pattern, startedAt: startedAt)
                }
                let limit = route.maxBodySize ?? configuration.maxBodySize
                if let length = request.headers.contentLength.flatMap(RequestFraming.contentLength), length > limit {
                    return startResponse(id: id, wsi: wsi, request: request, response: HTTPError.payloadTooLarge(limit: limit).response, label: route.pattern, startedAt: startedAt)
                }
            }
            let pending = PendingRequest(wsi: wsi, request: request, route: route, state: .receivingBody, label: route.pattern, startedAt: startedAt)
            requests[id] = pending
            // A body comes first; the handler runs once it is complete (completeBody).
            return method.hasBody ? 0 : dispatch(id: id, pending, route: route)
        case .methodNotAllowed(let allowed):
            return startResponse(id: id, wsi: wsi, request: request, response: HTTPError.methodNotAllowed(method, path: path, allowed: allowed).response, startedAt: startedAt)
        case .notFound:
            if method == .get || method == .head, !router.isReserved(path), let file = statics.resolve(path) {
                metrics?.answered(route: HTTPMetrics.staticFile, method: method, status: 200, startedAt: nil)
                let served = lws_serve_http_file(wsi, file.path, file.contentType, nil, 0)
                if served < 0 || (served > 0 && lws_http_transaction_completed(wsi) != 0) { return -1 }
                return 0
            }
            return startResponse(id: id, wsi: wsi, request: request, response: HTTPError.notFound(path).response, startedAt: startedAt)
        }
    }

    /// `LWS_CALLBACK_HTTP_BODY`: a chunk of the body.
    func appendBody(wsi: OpaquePointer, session: UnsafeMutablePointer<SessionData>, bytes: UnsafeRawBufferPointer) -> Int32 {
        let id = session.pointee.requestID
        guard let pending = requests[id], case .receivingBody = pending.state else { return 0 }
        if pending.request.body.isEmpty, RequestFraming.echoesRequestLine(bytes, method: pending.request.method) {
            // libwebsockets 4.1.6 hands a request pipelined behind another the start of
            // its own request line as body (lws_http_action reads the buffer list from
            // its head), then loops on HTTP_BODY_COMPLETION forever. The real body is out
            // of reach: answer now, in this callback, and close the connection.
            // On the poll() loop beginRequest refuses these first; on the epoll loop
            // this is where they are caught. Returning -1 inside libwebsockets' own
            // body loop closes the connection under its caller, which lws 4.1 handles:
            // the hostile-input tests run this path on every pipelined body.
            requests[id] = nil
            logger.warning("a pipelined body reached the body callback")
            _ = write(Self.pipelinedBody.response, on: wsi)
            metrics?.answered(route: pending.label, method: pending.request.method, status: Self.pipelinedBody.status, startedAt: pending.startedAt)
            return -1
        }
        let limit = pending.route?.maxBodySize ?? configuration.maxBodySize
        if pending.request.body.count + bytes.count > limit {
            // Answer now; libwebsockets discards the rest of the body before the next
            // request on this connection.
            requests[id] = nil
            return startResponse(id: id, wsi: pending.wsi, request: pending.request, response: HTTPError.payloadTooLarge(limit: limit).response, label: pending.label, startedAt: pending.startedAt)
        }
        pending.request.body.append(contentsOf: bytes)
        return 0
    }

    /// `LWS_CALLBACK_HTTP_BODY_COMPLETION`: the body is complete; run the handler.
    ///
    /// The connection stops reading until the response is written (``dispatch``): a
    /// request pipelined behind this one waits in libwebsockets' buffer list, which 4.1
    /// would otherwise feed back as further completions of this request on every
    /// service pass. A few such completions can still arrive between the answer and
    /// its write and are ignored; an endless run of them closes the connection.
    func completeBody(session: UnsafeMutablePointer<SessionData>) -> Int32 {
        session.pointee.bodyCompletions &+= 1
        if session.pointee.bodyCompletions > Self.maxSpuriousCompletions {
            logger.warning("closing a connection that pipelined a request body", metadata: ["http.request": .stringConvertible(session.pointee.requestID)])
            return -1
        }
        guard session.pointee.bodyCompletions == 1 else { return 0 }
        let id = session.pointee.requestID
        guard let pending = requests[id], case .receivingBody = pending.state, let route = pending.route else { return 0 }
        return dispatch(id: id, pending, route: route)
    }

    static let stopping = HTTPError(
        status: 503, code: "stopping", message: "the server is stopping: send the request again in a moment",
        headers: [("retry-after", "1")]
    )

    static let pipelinedBody = HTTPError(
        status: 400, code: "pipelined_body",
        message: "a request with a body was sent before the previous response arrived; it was not processed: send it again once the response is in"
    )

    /// Whether the request starting now was read from libwebsockets' buffer list, i.e.
    /// sent before the previous response on its connection was written. After a
    /// response, libwebsockets holds the connection one pass (until it is writable)
    /// before it reads the socket again, but parses buffered bytes in that next pass.
    /// On the epoll loop this cannot be told here, and `appendBody` refuses the body
    /// when it arrives (it starts with its own request line).
    private func isPipelined(wsi: OpaquePointer) -> Bool {
        guard countsPolls, let last = lastResponses[wsi] else { return false }
        return serviceIteration &- last.iteration <= 1
    }

    /// `LWS_CALLBACK_WSI_DESTROY`: the connection is gone.
    func connectionDestroyed(wsi: OpaquePointer) {
        lastResponses[wsi] = nil
        if draining { awaitedConnections.remove(wsi) }
    }

    /// More completions of one request than this are libwebsockets' endless loop.
    static let maxSpuriousCompletions: UInt32 = 64

    /// Runs the handler. The connection stops reading until the answer is written
    /// (``markReady``): bytes pipelined behind this request would otherwise keep the
    /// service loop polling without a timeout while the handler works.
    private func dispatch(id: UInt64, _ pending: PendingRequest, route: Router.Route) -> Int32 {
        lws_rx_flow_control(pending.wsi, 0)
        pending.state = .handling(deadline: .now + configuration.responseTimeout)
        scheduleDeadlineCheck()
        route.handler(pending.request, HTTPResponder(requestID: id, core: core))
        drainCommands(inCallbackOf: pending.wsi)
        return 0
    }

    /// Records `response` for request `id` and asks for a writable callback.
    private func startResponse(
        id: UInt64, wsi: OpaquePointer, request: HTTPRequest, response: HTTPResponse,
        label: String = HTTPMetrics.unmatched, startedAt: ContinuousClock.Instant, closeAfter: Bool = false
    ) -> Int32 {
        requests[id] = PendingRequest(wsi: wsi, request: request, route: nil, state: .ready(response), closeAfter: closeAfter, label: label, startedAt: startedAt)
        lws_callback_on_writable(wsi)
        return 0
    }

    // MARK: Deadlines

    /// One timer for the whole server checks handlers' deadlines while any is running,
    /// instead of a libwebsockets timer per request: inserting each into lws's sorted
    /// timer list cost more than routing the request. A 504 comes up to
    /// ``deadlineCheckPeriod`` late.
    private let deadlineTimer: UnsafeMutablePointer<CLibWebSockets_ContextTimer> = {
        let timer = UnsafeMutablePointer<CLibWebSockets_ContextTimer>.allocate(capacity: 1)
        timer.initialize(to: CLibWebSockets_ContextTimer())
        return timer
    }()
    private var deadlineCheckScheduled = false

    /// How often running handlers' deadlines are checked.
    var deadlineCheckPeriod: Duration { min(.milliseconds(50), configuration.responseTimeout / 4) }

    private func scheduleDeadlineCheck() {
        guard !deadlineCheckScheduled, let context else { return }
        deadlineCheckScheduled = true
        deadlineTimer.pointee.context = context
        let node = UnsafeMutableRawPointer(deadlineTimer).assumingMemoryBound(to: lws_sorted_usec_list_t.self)
        lws_sul_schedule(context, 0, node, deadlineTimerFired, lws_usec_t(deadlineCheckPeriod.wholeMicroseconds))
    }

    /// The deadline timer fired: every handler past its deadline gets 504.
    func checkDeadlines() {
        deadlineCheckScheduled = false
        let now = ContinuousClock.now
        var running = false
        for pending in requests.values {
            guard case .handling(let deadline) = pending.state else { continue }
            guard now >= deadline else {
                running = true
                continue
            }
            let seconds = Double(configuration.responseTimeout.wholeMicroseconds) / 1e6
            logger.warning("handler missed its deadline", metadata: ["http.path": .string(pending.request.path), "timeout.s": .stringConvertible(seconds)])
            markReady(pending, HTTPError.gatewayTimeout(after: seconds).response)
        }
        if running { scheduleDeadlineCheck() }
    }

    deinit {
        deadlineTimer.deallocate()
    }

    /// The handler answered: read the connection again and write when it is writable.
    private func markReady(_ pending: PendingRequest, _ response: HTTPResponse) {
        pending.state = .ready(response)
        lws_rx_flow_control(pending.wsi, 1)
        lws_callback_on_writable(pending.wsi)
    }

    /// `LWS_CALLBACK_HTTP_WRITEABLE`: write the whole response in one `lws_write`.
    func writeResponse(wsi: OpaquePointer, session: UnsafeMutablePointer<SessionData>) -> Int32 {
        let id = session.pointee.requestID
        guard let pending = requests[id], case .ready(var response) = pending.state else { return 0 }
        requests[id] = nil
        // Stopping: the client must not send its next request on this connection, which
        // closes once this answer is out (it would meet a closed socket, or a server gone).
        let closing = pending.closeAfter || draining
        if draining { response.headers.append(("connection", "close")) }
        guard write(response, on: wsi, withBody: pending.request.method != .head) else { return -1 }
        metrics?.answered(route: pending.label, method: pending.request.method, status: response.status, startedAt: pending.startedAt)
        // A request whose body has no usable length: what follows on the connection
        // cannot be read as the next request. Or the server is stopping.
        if closing { return -1 }
        lastResponses[wsi] = LastResponse(iteration: serviceIteration, at: .now)
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
    }

    /// Writes status line, headers and body in one `lws_write`; false if it failed. A
    /// HEAD request's answer has the headers (the body's length included) only.
    private func write(_ response: HTTPResponse, on wsi: OpaquePointer, withBody: Bool = true) -> Bool {
        let headroom = Int(CLibWebSockets_LWS_PRE)
        let headerSpace = 1024 + response.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        let needed = headroom + headerSpace + response.body.count
        if scratch.count < needed { scratch = [UInt8](repeating: 0, count: max(needed, 16 * 1024)) }
        return scratch.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            let start = base + headroom
            let end = start + headerSpace
            var p: UnsafeMutablePointer<UInt8>? = start
            if lws_add_http_common_headers(wsi, UInt32(response.status), response.contentType, lws_filepos_t(response.body.count), &p, end) != 0 {
                return false
            }
            for header in response.headers {
                let name = header.name + ":"
                let failed = header.value.utf8CString.withUnsafeBufferPointer { value in
                    value.withMemoryRebound(to: UInt8.self) { value in
                        lws_add_http_header_by_name(wsi, name, value.baseAddress, Int32(value.count - 1), &p, end) != 0
                    }
                }
                if failed { return false }
            }
            if lws_finalize_http_header(wsi, &p, end) != 0 { return false }
            guard var cursor = p else { return false }
            if withBody {
                response.body.withUnsafeBytes { body in
                    if let bodyBase = body.baseAddress {
                        UnsafeMutableRawPointer(cursor).copyMemory(from: bodyBase, byteCount: body.count)
                    }
                }
                cursor += response.body.count
            }
            let length = start.distance(to: cursor)
            return lws_write(wsi, start, length, LWS_WRITE_HTTP_FINAL) == length
        }
    }

    /// `LWS_CALLBACK_CLOSED_HTTP` / `HTTP_DROP_PROTOCOL`: forget the request, so a late
    /// answer finds nothing to write to.
    func forgetRequest(session: UnsafeMutablePointer<SessionData>?) {
        guard let session, session.pointee.requestID != 0 else { return }
        requests[session.pointee.requestID] = nil
        session.pointee.requestID = 0
    }

    // MARK: WebSocket

    /// `LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION`: only on the WebSocket path, and from
    /// a page of this server or an allowed origin (a page elsewhere on the classroom
    /// network must not read the live stream through a visitor's browser).
    func acceptsWebSocket(wsi: OpaquePointer) -> Bool {
        guard !draining, !goingAway else { return false }
        guard Self.header(wsi, WSI_TOKEN_GET_URI) == configuration.webSocketPath else { return false }
        let origin = Self.header(wsi, WSI_TOKEN_ORIGIN)
        guard WebSocketOrigin.isAllowed(origin, host: Self.header(wsi, WSI_TOKEN_HOST), listed: configuration.webSocketAllowedOrigins) else {
            logger.info("refused a WebSocket from another origin", metadata: ["http.origin": .string(origin ?? "")])
            return false
        }
        return true
    }


    func webSocketOpened(wsi: OpaquePointer, session: UnsafeMutablePointer<SessionData>) {
        let id = makeID()
        session.pointee.clientID = id
        clients[id] = Client(wsi: wsi, backlog: WebSocketBacklog(limit: configuration.webSocketBacklog))
        core.count { [count = clients.count] in $0.webSocketClients = count }
        metrics?.webSocketClients(clients.count)
        sendSnapshots(to: id)
        events.onConnect(WebSocketClientID(raw: id))
        drainCommands(inCallbackOf: wsi)
    }

    func webSocketReceived(wsi: OpaquePointer, session: UnsafeMutablePointer<SessionData>, bytes: UnsafeRawBufferPointer) -> Int32 {
        let id = session.pointee.clientID
        guard var client = clients[id] else { return 0 }
        if client.incoming.count + bytes.count > configuration.maxBodySize { return -1 }
        client.incoming.append(contentsOf: bytes)
        if lws_is_final_fragment(wsi) == 0 || lws_remaining_packet_payload(wsi) > 0 {
            clients[id] = client
            return 0
        }
        let text = String(decoding: client.incoming, as: UTF8.self)
        client.incoming.removeAll(keepingCapacity: true)
        clients[id] = client
        events.onMessage(WebSocketClientID(raw: id), text)
        drainCommands(inCallbackOf: wsi)
        return 0
    }

    func webSocketWritable(wsi: OpaquePointer, session: UnsafeMutablePointer<SessionData>) -> Int32 {
        if goingAway {
            var reason = Array("server stopping".utf8)
            lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY, &reason, reason.count)
            return -1
        }
        let id = session.pointee.clientID
        if clients[id]?.failed == true { return -1 }
        // In place: a copy of the client taken out and put back copied its backlog too.
        guard let frame = clients[id]?.backlog.popFirst() else { return 0 }
        if let next = clients[id]?.backlog.first, fitsBatch(frame.count, next.count) {
            guard writeBatch(startingWith: frame, for: id, on: wsi) else { return -1 }
        } else {
            guard write(frame, on: wsi) else { return -1 }
        }
        if clients[id]?.backlog.isEmpty == false { lws_callback_on_writable(wsi) }
        return 0
    }

    /// The most bytes one client's frames take in one send; the frames past it wait for
    /// the next pass. A frame larger than this still goes, alone.
    static let maxBatchBytes = 256 * 1024

    private func fitsBatch(_ batched: Int, _ next: Int) -> Bool {
        batched + next + 2 * WebSocketFrame.maxHeaderCount <= Self.maxBatchBytes
    }

    /// Writes `first` and the frames queued behind it, within ``maxBatchBytes``, framed
    /// here and sent in one `lws_write`: one system call and one pass for a burst (a new
    /// client's snapshots, a slow client catching up) instead of one per frame.
    /// libwebsockets keeps what the socket does not take and sends it before anything
    /// else, as it does for a single frame.
    private func writeBatch(startingWith first: WebSocketFrame, for id: UInt64, on wsi: OpaquePointer) -> Bool {
        batch.removeAll(keepingCapacity: true)
        batch.append(first)
        var total = first.count + WebSocketFrame.maxHeaderCount
        while let next = clients[id]?.backlog.first, fitsBatch(total, next.count) {
            _ = clients[id]?.backlog.popFirst()
            batch.append(next)
            total += next.count + WebSocketFrame.maxHeaderCount
        }
        if scratch.count < total { scratch = [UInt8](repeating: 0, count: max(total, 16 * 1024)) }
        let written = scratch.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            var length = 0
            for frame in batch {
                length += WebSocketFrame.writeHeader(payloadCount: frame.count, to: base + length)
                (base + length).update(from: frame.payload, count: frame.count)
                length += frame.count
            }
            // LWS_WRITE_RAW (an alias of this): the bytes go out as they are.
            return lws_write(wsi, base, length, LWS_WRITE_HTTP) == length
        }
        guard written else { return false }
        let now = ContinuousClock.now
        for frame in batch { frameWritten(frame, at: now) }
        return true
    }

    /// Writes one frame; false if the write failed. libwebsockets writes its header in
    /// the headroom, no copy.
    private func write(_ frame: WebSocketFrame, on wsi: OpaquePointer) -> Bool {
        guard lws_write(wsi, frame.payload, frame.count, LWS_WRITE_TEXT) >= frame.count else { return false }
        frameWritten(frame, at: .now)
        return true
    }

    private func frameWritten(_ frame: WebSocketFrame, at now: ContinuousClock.Instant) {
        // Updates only: a snapshot sent to a client that just connected is old news by design.
        if frame.coalesceKey == nil { metrics?.frameWritten(after: now - frame.createdAt) }
    }

    /// `LWS_CALLBACK_WS_PEER_INITIATED_CLOSE`: the client is leaving; lws answers its close.
    func webSocketPeerClosing(session: UnsafeMutablePointer<SessionData>?) {
        guard let session else { return }
        clients[session.pointee.clientID]?.closing = true
    }

    func webSocketClosed(session: UnsafeMutablePointer<SessionData>?) {
        guard let session, session.pointee.clientID != 0 else { return }
        let id = session.pointee.clientID
        session.pointee.clientID = 0
        guard clients.removeValue(forKey: id) != nil else { return }
        core.count { [count = clients.count] in $0.webSocketClients = count }
        metrics?.webSocketClients(clients.count)
        events.onDisconnect(WebSocketClientID(raw: id))
    }

    /// Queues the kept snapshot of each channel client `id` receives.
    private func sendSnapshots(to id: UInt64) {
        guard let client = clients[id] else { return }
        for (channel, frame) in snapshots where client.channels?.contains(channel) ?? true {
            enqueue(frame, to: id)
        }
    }

    /// Writes a broadcast `frame` to client `id` at once when nothing waits before it:
    /// neither in its backlog nor in libwebsockets' unsent bytes. That is nearly always
    /// (a reading client's socket takes a frame whole), and it spares the writable
    /// round trip: two `epoll_ctl` and a service pass per frame and client, 60,000 a
    /// second with 1,000 clients. Otherwise, and for a client leaving, the frame queues.
    ///
    /// Service thread only. Never for `current`, the connection whose callback is
    /// running (``drainCommands(inCallbackOf:)``): its frame queues. A failed write
    /// closes the client from its own writable callback.
    private func writeOrEnqueue(_ frame: WebSocketFrame, to id: UInt64, inCallbackOf current: OpaquePointer?) {
        guard let client = clients[id] else { return }
        guard client.wsi != current, client.backlog.isEmpty, !client.closing, !client.failed, !goingAway,
            lws_partial_buffered(client.wsi) == 0
        else {
            enqueue(frame, to: id)
            return
        }
        if !write(frame, on: client.wsi) {
            clients[id]?.failed = true
            lws_callback_on_writable(client.wsi)
        }
    }

    private func enqueue(_ frame: WebSocketFrame, to id: UInt64) {
        guard var client = clients[id] else { return }
        clients[id] = nil  // unique backlog while it changes
        if client.backlog.push(frame, key: frame.coalesceKey) {
            core.count { $0.droppedFrames += 1 }
            metrics?.droppedFrame()
        }
        clients[id] = client
        lws_callback_on_writable(client.wsi)
    }

    // MARK: Commands from other threads

    /// `LWS_CALLBACK_EVENT_WAIT_CANCELLED`, and after every handler call. Cheap when empty:
    /// libwebsockets delivers this callback spuriously and merges wake-ups.
    ///
    /// Broadcasts are written at once to clients nothing waits on, except to `current`,
    /// the connection whose callback this runs in (nil in `EVENT_WAIT_CANCELLED`, which
    /// belongs to none): its frame waits for its writable callback. Answers always wait
    /// for theirs: written at once, they saved a tenth of a millisecond and cut
    /// keep-alive requests at shutdown (docs/BENCHMARKS.md, ninth session).
    func drainCommands(inCallbackOf current: OpaquePointer?) {
        for command in core.drain() {
            switch command {
            case .respond(let id, let response):
                guard let pending = requests[id], case .handling = pending.state else { continue }
                markReady(pending, response)
            case .publish(let channel, let update, let snapshot):
                if let snapshot {
                    if let index = snapshots.firstIndex(where: { $0.channel == channel }) {
                        snapshots[index].frame = snapshot
                    } else {
                        snapshots.append((channel, snapshot))
                    }
                }
                guard let update else { continue }
                for (id, client) in clients where client.channels?.contains(channel) ?? true {
                    writeOrEnqueue(update, to: id, inCallbackOf: current)
                }
            case .send(let frame, let client):
                enqueue(frame, to: client.raw)
            case .subscribe(let client, let channels):
                clients[client.raw]?.channels = channels
                sendSnapshots(to: client.raw)
            case .drain:
                draining = true
                let busy = Set(requests.values.map(\.wsi))
                let recently = ContinuousClock.now - Self.keepAliveGrace
                awaitedConnections = Set(lastResponses.lazy.filter { $0.value.at > recently && !busy.contains($0.key) }.map(\.key))
            case .stop:
                // First: say goodbye to every WebSocket (1001), so pages reconnect at once
                // instead of waiting out a dead connection. Then (second stop, or none
                // left): end the loop.
                if goingAway || clients.isEmpty {
                    stopping = true
                } else {
                    goingAway = true
                    for client in clients.values { lws_callback_on_writable(client.wsi) }
                }
            }
        }
    }

    // MARK: Reading the request

    private static let methodTokens: [(lws_token_indexes, HTTPMethod)] = [
        (WSI_TOKEN_GET_URI, .get), (WSI_TOKEN_POST_URI, .post), (WSI_TOKEN_PUT_URI, .put),
        (WSI_TOKEN_PATCH_URI, .patch), (WSI_TOKEN_DELETE_URI, .delete), (WSI_TOKEN_OPTIONS_URI, .options),
        (WSI_TOKEN_HEAD_URI, .head),
    ]

    private static func method(of wsi: OpaquePointer) -> HTTPMethod? {
        methodTokens.first { lws_hdr_total_length(wsi, $0.0) > 0 }?.1
    }

    /// A header's value up to its first NUL.
    private static func header(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        copied(length: Int(lws_hdr_total_length(wsi, token))) { lws_hdr_copy(wsi, $0, $1, token) }
    }

    /// The text libwebsockets' `copy` writes (`length` bytes and a NUL, into the buffer
    /// and size it is given), up to its first NUL: copied once, on the stack. Nil when
    /// there is none or the copy fails.
    private static func copied(length: Int, _ copy: (UnsafeMutablePointer<CChar>, Int32) -> Int32) -> String? {
        guard length > 0 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer -> String? in
            guard let base = buffer.baseAddress, copy(base, Int32(buffer.count)) >= 0 else { return nil }
            return String(cString: base)
        }
    }

    private static func headers(of wsi: OpaquePointer) -> HTTPHeaders {
        HTTPHeaders(
            contentType: header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE), contentLength: header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH),
            authorization: header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION)
        )
    }

    /// Query arguments; libwebsockets splits them on `&` and decodes them.
    private static func query(of wsi: OpaquePointer) -> [String: String] {
        var query: [String: String] = [:]
        var index: Int32 = 0
        while true {
            let length = Int(lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, index))
            guard let pair = copied(length: length, { lws_hdr_copy_fragment(wsi, $0, $1, WSI_TOKEN_HTTP_URI_ARGS, index) }) else { break }
            if let equals = pair.firstIndex(of: "=") {
                query[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            } else {
                query[pair] = ""
            }
            index += 1
        }
        return query
    }

    /// Whether the media type (before any `;` parameter, spaces and tabs around it
    /// ignored, any case) is `application/json`. On bytes: it runs for every post, and
    /// Foundation's trimming cost more than the rest of the request's routing.
    static func isJSON(_ contentType: String) -> Bool {
        if contentType == "application/json" { return true }  // what nearly every client sends
        var bytes = contentType.utf8[...]
        if let semicolon = bytes.firstIndex(of: UInt8(ascii: ";")) { bytes = bytes[..<semicolon] }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        while let first = bytes.first, isBlank(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, isBlank(last) { bytes = bytes.dropLast() }
        let lowercased = { (byte: UInt8) in (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte }
        return bytes.elementsEqual("application/json".utf8) { lowercased($0) == $1 }
    }
}
