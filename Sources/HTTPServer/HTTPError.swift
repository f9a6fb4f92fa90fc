import FastJSON

/// An error a client sees as `{"error": {"code": "...", "message": "..."}}` with its
/// HTTP status. Handlers throw or return these; anything else becomes a 500.
public struct HTTPError: Error, Sendable, Equatable {
    public var status: Int
    /// A stable, machine-readable code (`invalid_json`, `not_found`, …).
    public var code: String
    /// A sentence for people.
    public var message: String
    public var headers: [(name: String, value: String)]

    public init(status: Int, code: String, message: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// The JSON response for this error. Written by hand: errors are answered on the
    /// service thread, often under load, and JSONEncoder costs microseconds each.
    public var response: HTTPResponse {
        var json = JSONWriter(capacity: 48 + code.utf8.count + message.utf8.count)
        json.beginObject()
        json.key("error")
        json.beginObject()
        json.field("code", code)
        json.field("message", message)
        json.endObject()
        json.endObject()
        return HTTPResponse(status: status, headers: headers, body: json.bytes)
    }

    public static func == (lhs: HTTPError, rhs: HTTPError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.message == rhs.message
    }

    public static func badRequest(_ message: String, code: String = "bad_request") -> HTTPError {
        HTTPError(status: 400, code: code, message: message)
    }

    public static func notFound(_ path: String) -> HTTPError {
        HTTPError(status: 404, code: "not_found", message: "no resource at \(path)")
    }

    public static func methodNotAllowed(_ method: HTTPMethod, path: String, allowed: [HTTPMethod]) -> HTTPError {
        let names = allowed.map(\.rawValue).joined(separator: ", ")
        return HTTPError(
            status: 405, code: "method_not_allowed", message: "\(method.rawValue) is not allowed on \(path); use \(names)",
            headers: [("allow", names)]
        )
    }

    public static func payloadTooLarge(limit: Int) -> HTTPError {
        HTTPError(status: 413, code: "payload_too_large", message: "the request body is larger than \(limit) bytes")
    }

    public static func unsupportedMediaType(_ contentType: String?) -> HTTPError {
        HTTPError(
            status: 415, code: "unsupported_media_type",
            message: "expected content-type application/json, got \(contentType.map { "'\($0)'" } ?? "none")"
        )
    }

    public static func gatewayTimeout(after seconds: Double) -> HTTPError {
        HTTPError(status: 504, code: "timeout", message: "no answer within \(seconds) s")
    }

    public static func serviceUnavailable(_ message: String, code: String = "unavailable") -> HTTPError {
        HTTPError(status: 503, code: code, message: message)
    }

    public static func internalError(_ message: String) -> HTTPError {
        HTTPError(status: 500, code: "internal_error", message: message)
    }
}
