/// How the server decides where a request's body ends, and which requests it will not
/// read: the checks made on a request's head before any handler runs. Public for the
/// fuzzer; the service loop is their one caller.
public enum RequestFraming {
    /// Longest path answered; longer ones get 414. libwebsockets keeps the request line
    /// and headers in ``HTTPServerConfiguration/maxHeaderBytes``.
    public static let maxPathLength = 4096

    /// A request whose framing the server will not read: a body without a usable
    /// `Content-Length` (libwebsockets 4.1 does not decode chunked request bodies, and
    /// without a length it waits for 100 MB), or a path too long to route.
    public static func error(method: HTTPMethod, path: String, headers: HTTPHeaders, hasTransferEncoding: Bool) -> HTTPError? {
        if path.utf8.count > maxPathLength {
            return HTTPError(status: 414, code: "uri_too_long", message: "the path is longer than \(maxPathLength) bytes")
        }
        guard method.hasBody else { return nil }
        if hasTransferEncoding {
            return HTTPError(status: 411, code: "length_required", message: "chunked request bodies are not supported: send the body with Content-Length")
        }
        guard let length = headers.contentLength else {
            return HTTPError(status: 411, code: "length_required", message: "a \(method.rawValue) needs Content-Length (0 for no body)")
        }
        guard contentLength(length) != nil else {
            return HTTPError(status: 400, code: "invalid_content_length", message: "Content-Length must be a non-negative decimal number")
        }
        return nil
    }

    /// A `Content-Length` value: decimal digits only (no sign, no spaces), at most 18.
    public static func contentLength(_ value: String) -> Int? {
        let digits = value.utf8
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int(value)
    }

    /// Whether a body's first bytes are the request line's method and a space: the
    /// signature of libwebsockets 4.1's pipelined-body bug. No JSON document starts with
    /// an upper-case letter, so a real JSON body never matches.
    public static func echoesRequestLine(_ bytes: UnsafeRawBufferPointer, method: HTTPMethod) -> Bool {
        let line = Array((method.rawValue + " ").utf8)
        let count = min(bytes.count, line.count)
        guard count > 0 else { return false }
        return bytes.prefix(count).elementsEqual(line.prefix(count))
    }
}
