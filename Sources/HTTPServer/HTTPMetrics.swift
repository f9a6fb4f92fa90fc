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

    private let factory: any MetricsFactory
    /// The last answer's handles: a run of the same route and status (a load of posts)
    /// skips hashing the route's pattern twice per request.
    private var last: (answer: Answer, count: Counter, latency: Timer?)?
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
        let route = Route(pattern: pattern, method: method)
        let answer = Answer(route: route, status: status)
        let count: Counter
        var latency: Timer?
        if let last, last.answer == answer {
            (count, latency) = (last.count, last.latency)
        } else {
            count = counts[answer] ?? {
                let made = Counter(label: "http_requests_total", dimensions: [("route", pattern), ("method", method.rawValue), ("status", String(status))], factory: factory)
                counts[answer] = made
                return made
            }()
        }
        count.increment()
        defer { last = (answer, count, latency) }
        guard let startedAt else { return }
        let timer = latency ?? latencies[route] ?? {
            let made = Timer(label: "http_request_duration_seconds", dimensions: [("route", pattern), ("method", method.rawValue)], factory: factory)
            latencies[route] = made
            return made
        }()
        latency = timer
        timer.recordNanoseconds((ContinuousClock.now - startedAt).wholeNanoseconds)
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
