import CoreMetrics
import ServerSupport

/// Request counts and latencies by route, method and status, and the WebSocket figures,
/// reported through swift-metrics to whatever factory the server is given (Prometheus in
/// the app). Service thread only: each label set's handles are made once and kept.
///
/// The route label is the route's pattern (`/api/timeline/{user_id}`), `static` for
/// files, or `unmatched`: never the path a client sent, which a stranger could make
/// unique per request and so grow the registry without bound.
final class HTTPMetrics {
    private struct Route: Hashable {
        var pattern: String
        var method: HTTPMethod
    }

    private struct Answer: Hashable {
        var route: Route
        var status: Int
    }

    /// An answer's counter and its route's timer (nil until a latency is recorded).
    private struct Handles {
        var count: Counter
        var latency: Timer?
    }

    private let factory: any MetricsFactory
    /// The last answer's handles: a run of the same route and status (a load of posts)
    /// skips hashing the route's pattern twice per request.
    private var last: (answer: Answer, handles: Handles)?
    private var counts: [Answer: Counter] = [:]
    private var latencies: [Route: Timer] = [:]
    private let webSocketClients: Gauge
    private let droppedFrames: Counter
    private let frameDelay: Timer

    static let unmatched = "unmatched"
    static let staticFile = "static"

    init(factory: any MetricsFactory) {
        self.factory = factory
        webSocketClients = Gauge(label: "websocket_clients", dimensions: [], factory: factory)
        droppedFrames = Counter(label: "websocket_dropped_frames_total", dimensions: [], factory: factory)
        frameDelay = Timer(label: "websocket_frame_delay_seconds", dimensions: [], factory: factory)
        webSocketClients.record(0)
    }

    /// One answered request; `startedAt` nil when its latency is not ours to measure (a
    /// file libwebsockets streams).
    func answered(route pattern: String, method: HTTPMethod, status: Int, startedAt: ContinuousClock.Instant?) {
        let answer = Answer(route: Route(pattern: pattern, method: method), status: status)
        var handles = if let last, last.answer == answer { last.handles } else { Handles(count: counter(for: answer), latency: latencies[answer.route]) }
        handles.count.increment()
        if let startedAt {
            let latency = handles.latency ?? timer(for: answer.route)
            handles.latency = latency
            latency.recordNanoseconds((ContinuousClock.now - startedAt).wholeNanoseconds)
        }
        last = (answer, handles)
    }

    private func counter(for answer: Answer) -> Counter {
        if let known = counts[answer] { return known }
        let route = answer.route
        let made = Counter(label: "http_requests_total", dimensions: [("route", route.pattern), ("method", route.method.rawValue), ("status", String(answer.status))], factory: factory)
        counts[answer] = made
        return made
    }

    private func timer(for route: Route) -> Timer {
        if let known = latencies[route] { return known }
        let made = Timer(label: "http_request_duration_seconds", dimensions: [("route", route.pattern), ("method", route.method.rawValue)], factory: factory)
        latencies[route] = made
        return made
    }

    /// An update frame written to a client's socket, `delay` after it was made.
    func frameWritten(after delay: Duration) {
        frameDelay.recordNanoseconds(delay.wholeNanoseconds)
    }

    func webSocketClients(_ count: Int) {
        webSocketClients.record(count)
    }

    func droppedFrame() {
        droppedFrames.increment()
    }
}
