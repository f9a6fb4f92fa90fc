import Foundation

/// A minimal WebSocket client (RFC 6455) over a ``BlockingSocket``: handshake, masked
/// text frames out, unmasked frames in. For the load generator's latency watcher and
/// tests.
public final class WebSocketConnection: @unchecked Sendable {
    let socket: BlockingSocket
    public let handshakeStatus: Int

    /// Opens the connection and upgrades it; `origin` is sent as a browser would.
    public init(port: Int, host: String = "127.0.0.1", path: String = "/ws", origin: String? = nil, timeoutSeconds: Int = 5) throws {
        socket = try BlockingSocket(host: host, port: port, timeoutSeconds: timeoutSeconds)
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + (origin.map { "Origin: \($0)\r\n" } ?? "")
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try socket.write(Array(request.utf8))
        let head = String(decoding: try socket.readUntil(Array("\r\n\r\n".utf8)), as: UTF8.self)
        handshakeStatus = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    public func close() { socket.close() }

    /// The socket's file descriptor, for a reader that polls many connections at once.
    var descriptor: Int32 { socket.descriptor }

    /// Sends bytes as they are: for tests that send malformed frames.
    public func sendRaw(_ bytes: [UInt8]) throws { try socket.write(bytes) }

    /// Whether the server closed the connection (a close frame or end of stream) within
    /// the socket's timeout; frames before that are skipped.
    public func closedByServer() -> Bool {
        do {
            while true { _ = try receive() }
        } catch let error as HTTPClientError {
            return error.description.contains("closed")
        } catch {
            return false
        }
    }

    /// Asks for `channels` (the server's `{"subscribe": [...]}` message). Channel names
    /// are plain words: nothing to escape.
    public func subscribe(to channels: [String]) throws {
        try send(#"{"subscribe":["# + channels.map { "\"\($0)\"" }.joined(separator: ",") + "]}")
    }

    /// Sends a text frame.
    public func send(_ text: String) throws {
        let payload = Array(text.utf8)
        var frame: [UInt8] = [0x81]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else {
            frame.append(0x80 | 126)
            frame += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        let mask: [UInt8] = [1, 2, 3, 4]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try socket.write(frame)
    }

    /// Reads the next text message (throws on timeout).
    public func receive() throws -> String {
        while true {
            let header = try socket.read(exactly: 2)
            let opcode = header[0] & 0x0F
            // Strict about what a server may send (RFC 6455 §5.1-5.2): the server's frames
            // are read back in tests, so a framing mistake must fail them, not be skipped.
            guard header[0] & 0x70 == 0 else { throw HTTPClientError("websocket frame with reserved bits set") }
            guard header[1] & 0x80 == 0 else { throw HTTPClientError("websocket frame masked by the server") }
            guard header[0] & 0x80 != 0 else { throw HTTPClientError("fragmented websocket message (the server never fragments)") }
            var length = Int(header[1] & 0x7F)
            if length == 126 {
                let bytes = try socket.read(exactly: 2)
                length = Int(bytes[0]) << 8 | Int(bytes[1])
            } else if length == 127 {
                let bytes = try socket.read(exactly: 8)
                guard bytes[0] == 0, bytes[1] == 0, bytes[2] == 0, bytes[3] == 0 else { throw HTTPClientError("websocket frame over 4 GiB") }
                length = bytes.reduce(0) { $0 << 8 | Int($1) }
            }
            let payload = try socket.read(exactly: length)
            if opcode == 0x1 { return String(decoding: payload, as: UTF8.self) }
            if opcode == 0x8 {
                // The close code, where the peer gave one (1001: going away).
                let code = payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : 1005
                throw HTTPClientError("websocket closed with \(code)")
            }
        }
    }
}
