/// The request methods the router distinguishes.
public enum HTTPMethod: String, Sendable, Hashable, CaseIterable {
    case get = "GET"
    case head = "HEAD"
    case post = "POST"
    case put = "PUT"
    case patch = "PATCH"
    case delete = "DELETE"
    case options = "OPTIONS"

    /// Whether requests with this method carry a body the server collects.
    public var hasBody: Bool {
        switch self {
        case .post, .put, .patch: true
        default: false
        }
    }
}
