import Foundation

/// A response as read off the socket by ``HTTPConnection``.
public struct HTTPClientResponse: Sendable {
    public var status: Int
    /// Lower-cased names.
    public var headers: [String: String]
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object, or nil.
    public var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// `error.code` of a JSON error body.
    public var errorCode: String? {
        (json?["error"] as? [String: Any])?["code"] as? String
    }
}

public struct HTTPClientError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A minimal blocking HTTP/1.1 client on one keep-alive connection: what the load
/// generator runs per worker, and what tests use to reach the real server the way any
/// client would (raw paths, no client-side normalisation of `..`, exact bytes).
/// Not thread-safe: one thread uses a connection at a time.
public final class HTTPConnection: @unchecked Sendable {
    let socket: BlockingSocket

    public init(port: Int, host: String = "127.0.0.1") throws {
        socket = try BlockingSocket(host: host, port: port)
    }

    public func close() { socket.close() }

    /// Sends one request on this connection and reads the response.
    public func request(
        _ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8]? = nil
    ) throws -> HTTPClientResponse {
        try send(method, path, headers: headers, body: body)
        return try readResponse(method: method)
    }

    /// Writes one request without waiting for the answer (read it with ``readResponse(method:)``).
    public func send(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8]? = nil) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        var headers = headers
        if let body, headers["Content-Length"] == nil { headers["Content-Length"] = String(body.count) }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        try socket.write(Array(head.utf8) + (body ?? []))
    }

    /// POSTs `json` (a string) with `content-type: application/json`.
    public func postJSON(_ path: String, _ json: String, contentType: String = "application/json") throws -> HTTPClientResponse {
        try request("POST", path, headers: ["Content-Type": contentType], body: Array(json.utf8))
    }

    public func get(_ path: String) throws -> HTTPClientResponse {
        try request("GET", path)
    }

    public func readResponse(method: String = "GET") throws -> HTTPClientResponse {
        let head = try socket.readUntil(Array("\r\n\r\n".utf8))
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw HTTPClientError("bad status line: \(lines[0])")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body: [UInt8] = []
        if method != "HEAD" {
            if let length = headers["content-length"].flatMap(Int.init) {
                body = try socket.read(exactly: length)
            } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
                while true {
                    let sizeLine = String(decoding: try socket.readUntil(Array("\r\n".utf8)), as: UTF8.self)
                    guard let size = Int(sizeLine.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16) else {
                        throw HTTPClientError("bad chunk size \(sizeLine)")
                    }
                    body += try socket.read(exactly: size)
                    _ = try socket.read(exactly: 2)
                    if size == 0 { break }
                }
            }
        }
        return HTTPClientResponse(status: status, headers: headers, body: body)
    }
}
