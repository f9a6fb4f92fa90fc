/// One HTTP request, complete with its body, as handed to a route handler.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The decoded path, without the query string.
    public var path: String
    /// Query parameters (the last value wins when a name repeats).
    public var query: [String: String]
    /// Values of `{name}` segments of the matched route.
    public var pathParameters: [String: String]
    /// The headers the server reads (`content-type`, `content-length`, `authorization`).
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(
        method: HTTPMethod, path: String, query: [String: String] = [:], pathParameters: [String: String] = [:],
        headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.pathParameters = pathParameters
        self.headers = headers
        self.body = body
    }
}
