/// Answers one request, now or later, from any thread, through its ``HTTPResponder``.
public typealias HTTPHandler = @Sendable (HTTPRequest, HTTPResponder) -> Void

/// Maps method and path to handlers. Paths are `/`-separated literals and `{name}`
/// segments; a trailing slash is ignored. Built before the server starts, then
/// read-only.
public struct Router: Sendable {
    /// What body a route takes. `.json` routes reject other content types with 415.
    public enum Body: Sendable, Equatable {
        case none
        case json
    }

    public struct Route: Sendable {
        public let method: HTTPMethod
        public let pattern: String
        public let body: Body
        /// This route's body limit, when not the server's.
        public let maxBodySize: Int?
        let segments: [Segment]
        let handler: HTTPHandler
    }

    public enum Match: Sendable {
        case found(Route, parameters: [String: String])
        /// The path exists with other methods.
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    enum Segment: Sendable, Equatable {
        case literal(Substring)
        case parameter(String)
    }

    private var routes: [Route] = []
    /// Routes without parameters by method and canonical path (`/a/b`), for the
    /// common request that names one exactly: no split, no walk over every route. Only
    /// routes no earlier route shadows are here, so the answer is the walk's.
    private var exact: [HTTPMethod: [String: Route]] = [:]
    /// Path prefixes that belong to the API: unknown paths under them are 404 at once,
    /// without looking for a static file.
    public private(set) var apiPrefixes: [String] = []

    public init() {}

    /// Marks `prefix` (e.g. `/api/`) as API-only: no static file is served under it.
    public mutating func reserve(prefix: String) {
        apiPrefixes.append(prefix)
    }

    /// Whether `path` lies under a reserved API prefix.
    public func isReserved(_ path: String) -> Bool {
        apiPrefixes.contains { path.hasPrefix($0) }
    }

    /// Adds a route whose handler answers through a responder: now, or later from
    /// another thread (a deferred response, bounded by the server's deadline).
    /// - Parameter maxBodySize: a body limit for this route instead of the server's
    ///   (``HTTPServerConfiguration/maxBodySize``).
    public mutating func on(_ method: HTTPMethod, _ pattern: String, body: Body? = nil, maxBodySize: Int? = nil, handler: @escaping HTTPHandler) {
        let route = Route(
            method: method, pattern: pattern, body: body ?? (method.hasBody ? .json : .none), maxBodySize: maxBodySize,
            segments: Self.parse(pattern), handler: handler
        )
        let literals = route.segments.compactMap { segment -> Substring? in
            if case .literal(let literal) = segment { literal } else { nil }
        }
        let shadowed = routes.contains { ($0.method == method || (method == .head && $0.method == .get)) && Self.bind($0.segments, to: literals) != nil }
        if literals.count == route.segments.count, !shadowed {
            exact[method, default: [:]]["/" + literals.joined(separator: "/")] = route
        }
        routes.append(route)
    }

    /// Adds a route answered synchronously on the service thread: keep it quick.
    public mutating func on(_ method: HTTPMethod, _ pattern: String, body: Body? = nil, respond: @escaping @Sendable (HTTPRequest) throws(HTTPError) -> HTTPResponse) {
        on(method, pattern, body: body, handler: { request, responder in
            do throws(HTTPError) {
                responder.respond(try respond(request))
            } catch {
                responder.respond(error.response)
            }
        })
    }

    public mutating func get(_ pattern: String, respond: @escaping @Sendable (HTTPRequest) throws(HTTPError) -> HTTPResponse) {
        on(.get, pattern, respond: respond)
    }

    public mutating func post(_ pattern: String, handler: @escaping HTTPHandler) {
        on(.post, pattern, handler: handler)
    }

    /// Finds the route for `method` and `path`. HEAD takes the GET route (the server
    /// writes its headers without the body).
    public func match(_ method: HTTPMethod, _ path: String) -> Match {
        if let route = exact[method]?[path] { return .found(route, parameters: [:]) }
        let parts = Self.split(path)
        var allowed: [HTTPMethod] = []
        for route in routes {
            guard let parameters = Self.bind(route.segments, to: parts) else { continue }
            if route.method == method || (method == .head && route.method == .get) { return .found(route, parameters: parameters) }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    static func parse(_ pattern: String) -> [Segment] {
        split(pattern).map { part in
            if part.hasPrefix("{"), part.hasSuffix("}"), part.count > 2 {
                .parameter(String(part.dropFirst().dropLast()))
            } else {
                .literal(part)
            }
        }
    }

    private static func split(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    private static func bind(_ segments: [Segment], to parts: [Substring]) -> [String: String]? {
        guard segments.count == parts.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let literal):
                guard literal == part else { return nil }
            case .parameter(let name):
                parameters[name] = String(part)
            }
        }
        return parameters
    }
}
