import Foundation
import HTTPServer
import HTTPTestSupport
import Testing

/// What a curious class sends to the port: pipelined requests, bodies with no usable
/// length, lying lengths, garbage, slow and oversized requests, malformed WebSocket
/// frames. After each, the server must still answer a fresh client at once.
@Suite("Hostile input over raw sockets")
struct HostileInputTests {
    static let get = "GET /api/echo/first HTTP/1.1\r\nHost: x\r\n\r\n"
    static func post(_ body: String) -> String {
        "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// Reads responses off `socket` until it closes or `count` were read.
    static func responses(_ socket: TestSocket, upTo count: Int) -> [(status: Int, body: String)] {
        var out: [(Int, String)] = []
        while out.count < count {
            guard let head = try? socket.readUntil(Array("\r\n\r\n".utf8)) else { break }
            let text = String(decoding: head, as: UTF8.self)
            let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
            let length = text.split(separator: "\r\n").compactMap { line -> Int? in
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                return Int(parts[1].trimmingCharacters(in: .whitespaces))
            }.first ?? 0
            guard let body = try? socket.read(exactly: length) else { break }
            out.append((status, String(decoding: body, as: UTF8.self)))
        }
        return out
    }

    /// A new connection gets an answer within a second: the service thread is not stuck.
    static func stillServing(_ live: LiveServer) -> Bool {
        guard let socket = try? TestSocket(host: "127.0.0.1", port: live.port, timeoutSeconds: 1) else { return false }
        try? socket.write(Array(get.utf8))
        return responses(socket, upTo: 1).first?.status == 200
    }

    /// libwebsockets 4.1 hands a request with a body that was pipelined behind another
    /// the start of its own request line as body and then loops forever on the service
    /// thread (every client starved, SIGTERM ignored). The server refuses such a body
    /// with 400 and closes; every request before it is answered normally.
    /// Requests sent at once on one connection, and the statuses they must get.
    struct Pipeline: Sendable, CustomTestStringConvertible {
        var name: String
        var requests: [String]
        var statuses: [Int]
        var testDescription: String { name }
    }

    /// The `poll()` loop refuses a pipelined body before its body callback, the epoll
    /// loop when the body arrives (see ServiceLoop.isPipelined): both are run.
    @Test("pipelined requests are answered in order and never stop the server", arguments: [
        Pipeline(name: "GET+POST", requests: [get, post(#"{"a":1}"#)], statuses: [200, 400]),
        Pipeline(name: "POST+POST", requests: [post(#"{"a":1}"#), post(#"{"b":2}"#)], statuses: [201, 400]),
        Pipeline(name: "POST+GET", requests: [post(#"{"a":1}"#), get], statuses: [201, 200]),
        Pipeline(name: "GET+GET+GET", requests: [get, get, get], statuses: [200, 200, 200]),
        Pipeline(name: "two bad POSTs", requests: [post("nope"), post("{")], statuses: [201, 400]),
        Pipeline(name: "GET+POST+GET", requests: [get, post("{}"), get], statuses: [200, 400]),
    ], HTTPServerConfiguration.EventLoop.allCases)
    func pipelining(pipeline: Pipeline, eventLoop: HTTPServerConfiguration.EventLoop) throws {
        let (name, requests, statuses) = (pipeline.name, pipeline.requests, pipeline.statuses)
        let live = try LiveServer(eventLoop: eventLoop)
        let socket = try TestSocket(host: "127.0.0.1", port: live.port, timeoutSeconds: 3)
        try socket.write(Array(requests.joined().utf8))
        let answers = Self.responses(socket, upTo: requests.count)
        #expect(answers.map(\.status) == statuses, "\(name)")
        // The first POST's body is the one sent, not bytes of another request.
        if let firstPost = requests.firstIndex(where: { $0.hasPrefix("POST") }), answers.count > firstPost, answers[firstPost].status == 201 {
            #expect(requests[firstPost].hasSuffix(answers[firstPost].body))
        }
        if let refused = answers.first(where: { $0.status == 400 }) {
            #expect(refused.body.contains("pipelined_body"))
        }
        #expect(Self.stillServing(live), "\(name) left the server unable to answer")
    }

    /// A handler that answers 50 ms later, from another thread (the Kafka path does):
    /// while it works, libwebsockets feeds the bytes pipelined behind its request back
    /// as completions of it on every pass, until the connection stops reading. The
    /// connection pauses only then (a client that waits for its answers never pays
    /// for it); past 64 completions it would be closed, failing these.
    @Test("requests pipelined behind a slow handler's wait for its answer, in order", arguments: [
        Pipeline(name: "slow POST+GET", requests: [later, get], statuses: [201, 200]),
        Pipeline(name: "slow POST+GET+GET", requests: [later, get, get], statuses: [201, 200, 200]),
        Pipeline(name: "slow POST+POST", requests: [later, post(#"{"b":2}"#)], statuses: [201, 400]),
    ], HTTPServerConfiguration.EventLoop.allCases)
    func pipeliningBehindSlowHandler(pipeline: Pipeline, eventLoop: HTTPServerConfiguration.EventLoop) throws {
        let live = try LiveServer(eventLoop: eventLoop)
        let socket = try TestSocket(host: "127.0.0.1", port: live.port, timeoutSeconds: 3)
        try socket.write(Array(pipeline.requests.joined().utf8))
        let answers = Self.responses(socket, upTo: pipeline.requests.count)
        #expect(answers.map(\.status) == pipeline.statuses, "\(pipeline.name)")
        #expect(answers.first?.body == #"{"late":true}"#)
        #expect(Self.stillServing(live), "\(pipeline.name) left the server unable to answer")
    }

    static let later = "POST /api/later HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"

    @Test("a body without a usable length is refused at once, never waited for", arguments: [
        ("chunked", "Transfer-Encoding: chunked\r\n", "2\r\n{}\r\n0\r\n\r\n", 411, "length_required"),
        ("no length", "", "{}", 411, "length_required"),
        ("negative", "Content-Length: -1\r\n", "{}", 400, "invalid_content_length"),
        ("not a number", "Content-Length: two\r\n", "{}", 400, "invalid_content_length"),
    ])
    func unframedBodies(name: String, header: String, body: String, status: Int, code: String) throws {
        let live = try LiveServer()
        let socket = try TestSocket(host: "127.0.0.1", port: live.port, timeoutSeconds: 3)
        let start = ContinuousClock.now
        try socket.write(Array("POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(header)\r\n\(body)".utf8))
        let answers = Self.responses(socket, upTo: 1)
        // Some malformed lengths libwebsockets refuses by itself (closing the
        // connection); whichever answers, the client is not left waiting.
        if let answer = answers.first {
            #expect(answer.status == status, "\(name)")
            #expect(answer.body.contains(code), "\(name)")
        }
        #expect(ContinuousClock.now - start < .seconds(2), "\(name) was left hanging")
        #expect(Self.stillServing(live))
    }

    @Test("a body shorter than its Content-Length is cut off by the server's timeout, others served meanwhile", arguments: HTTPServerConfiguration.EventLoop.allCases)
    func bodyStopsHalfway(eventLoop: HTTPServerConfiguration.EventLoop) throws {
        let live = try LiveServer(eventLoop: eventLoop)
        let socket = try TestSocket(host: "127.0.0.1", port: live.port, timeoutSeconds: 30)
        try socket.write(Array("POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":".utf8))
        #expect(Self.stillServing(live))
        let start = ContinuousClock.now
        _ = try? socket.readToEnd()
        #expect(ContinuousClock.now - start < .seconds(25), "a half-sent body held its connection forever")
    }

    @Test("a body longer than its Content-Length: the rest is read as the next request, answered or refused")
    func bodyLongerThanAnnounced() throws {
        let live = try LiveServer()
        let socket = try TestSocket(host: "127.0.0.1", port: live.port, timeoutSeconds: 2)
        try socket.write(Array("POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}GARBAGE GARBAGE\r\n\r\n".utf8))
        let answers = Self.responses(socket, upTo: 2)
        #expect(answers.first?.status == 201)
        #expect(answers.first?.body == "{}")
        #expect(Self.stillServing(live))
    }

    @Test("garbage request lines get an error or a closed connection, never a stuck server", arguments: [
        "\u{0}\u{1}\u{2}\u{3}binary\r\n\r\n",
        "GET\r\n\r\n",
        "HELLO / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        "GET /api/echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n",
        "POST /api/echo HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\r\n{}",
        "GET /%00%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n",
        String(repeating: "\r\n", count: 5000),
    ])
    func garbage(request: String) throws {
        let live = try LiveServer()
        let socket = try TestSocket(host: "127.0.0.1", port: live.port, timeoutSeconds: 3)
        try socket.write(Array(request.utf8))
        let start = ContinuousClock.now
        let answers = Self.responses(socket, upTo: 1)
        if let status = answers.first?.status { #expect(status >= 400 || status == 200 || status == 404, "\(status)") }
        #expect(ContinuousClock.now - start < .seconds(4))
        #expect(Self.stillServing(live))
    }

    @Test("long paths get 414; headers past the parser's room close the connection; the server stays up")
    func oversized() throws {
        let live = try LiveServer()
        let path = "/api/echo/" + String(repeating: "a", count: 5000)
        let socket = try TestSocket(host: "127.0.0.1", port: live.port, timeoutSeconds: 3)
        try socket.write(Array("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(Self.responses(socket, upTo: 1).first?.status == 414)

        // A 4,000-byte path still routes (it used to close the connection).
        let fits = try live.client().get("/api/echo/" + String(repeating: "b", count: 4000))
        #expect(fits.status == 200)

        let huge = try TestSocket(host: "127.0.0.1", port: live.port, timeoutSeconds: 3)
        try? huge.write(Array("GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "c", count: 40_000))\r\n\r\n".utf8))
        let answered = Self.responses(huge, upTo: 1)
        #expect(answered.isEmpty || answered[0].status >= 400)
        #expect(Self.stillServing(live))
    }

    /// Requests held open (their handlers never answer, as a stuck Kafka would) keep
    /// their connections paused and their header tables in use: nobody else may wait.
    @Test("twenty requests waiting for their answers do not starve a twenty-first client")
    func manyRequestsInFlight() throws {
        let live = try LiveServer()
        let waiting = try (0..<20).map { _ in try live.client() }
        for client in waiting {
            try client.send("POST", "/api/never", headers: ["Content-Type": "application/json"], body: Array("{}".utf8))
        }
        usleep(200_000)
        let start = ContinuousClock.now
        #expect(Self.stillServing(live))
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test("slowloris: connections that send headers a byte at a time do not starve anyone")
    func slowloris() throws {
        let live = try LiveServer()
        let slow = try (0..<40).map { _ in try TestSocket(host: "127.0.0.1", port: live.port, timeoutSeconds: 1) }
        let prefix = Array("GET /api/echo/slow HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8)
        for byte in prefix {
            for socket in slow { try? socket.write([byte]) }
            if byte == prefix[10] { #expect(Self.stillServing(live)) }
        }
        #expect(Self.stillServing(live))
    }

    // MARK: WebSocket

    static func frame(opcode: UInt8, fin: Bool = true, masked: Bool = true, payload: [UInt8], lengthOverride: [UInt8]? = nil) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if let lengthOverride {
            bytes += [maskBit | 127] + lengthOverride
        } else if payload.count < 126 {
            bytes.append(maskBit | UInt8(payload.count))
        } else {
            bytes += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        guard masked else { return bytes + payload }
        let mask: [UInt8] = [9, 8, 7, 6]
        return bytes + mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    }

    /// libwebsockets 4.1 takes an unmasked client frame as a message (RFC 6455 says to
    /// close): harmless here, since a client's messages only choose its channels.
    @Test("an unmasked frame is read as a message, nothing worse")
    func unmaskedFrame() throws {
        let live = try LiveServer()
        let bystander = try TestWebSocket(port: live.port)
        let client = try TestWebSocket(port: live.port)
        try client.sendRaw(Self.frame(opcode: 0x1, masked: false, payload: Array("hi".utf8)))
        live.server.hub.broadcast("still here", channel: "messages")
        #expect(try bystander.receive() == "still here")
        #expect(Self.stillServing(live))
    }

    @Test("malformed WebSocket frames close that client only; the others keep receiving", arguments: [
        ("reserved opcode", frame(opcode: 0x3, payload: [1])),
        ("fragmented ping", frame(opcode: 0x9, fin: false, payload: [1])),
        ("ping over 125 bytes", frame(opcode: 0x9, payload: Array(repeating: 1, count: 200))),
        ("invalid UTF-8 text", frame(opcode: 0x1, payload: [0xC3, 0x28, 0xFF])),
        ("length 2^63", frame(opcode: 0x1, payload: [], lengthOverride: [0x80, 0, 0, 0, 0, 0, 0, 0])),
        ("continuation first", frame(opcode: 0x0, payload: Array("x".utf8))),
        ("RSV bits", [0xF1, 0x81, 1, 2, 3, 4, 0x41]),
        ("text over the limit", frame(opcode: 0x1, payload: [], lengthOverride: [0, 0, 0, 0, 0x10, 0, 0, 0])
            + Array(repeating: UInt8(0x41), count: 70_000)),
    ])
    func malformedFrames(name: String, bytes: [UInt8]) throws {
        let live = try LiveServer()
        let bystander = try TestWebSocket(port: live.port)
        let attacker = try TestWebSocket(port: live.port, timeoutSeconds: 3)
        #expect(attacker.handshakeStatus == 101)
        #expect(eventually { live.server.hub.clientCount == 2 })
        try? attacker.sendRaw(bytes)
        #expect(attacker.closedByServer(), "\(name): the connection stayed open")
        attacker.close()  // a close frame awaits the client's ack: end it as a client would
        live.server.hub.broadcast("still here", channel: "messages")
        #expect(try bystander.receive() == "still here")
        #expect(eventually { live.server.hub.clientCount == 1 })
        #expect(Self.stillServing(live))
    }

    @Test("a WebSocket upgrade from another site's page is refused; the page's own origin and listed ones are not")
    func origin() throws {
        let live = try LiveServer()
        let own = try TestWebSocket(port: live.port, origin: "http://127.0.0.1:\(live.port)")
        #expect(own.handshakeStatus == 101)
        let none = try TestWebSocket(port: live.port)
        #expect(none.handshakeStatus == 101)
        let foreign = try? TestWebSocket(port: live.port, origin: "http://evil.example")
        #expect(foreign == nil || foreign?.handshakeStatus != 101)
        let lookalike = try? TestWebSocket(port: live.port, origin: "http://127.0.0.1:\(live.port).evil.example")
        #expect(lookalike == nil || lookalike?.handshakeStatus != 101)
    }

    @Test("origin rules", arguments: [
        (nil as String?, "h:1" as String?, true),
        ("http://h:1", "h:1", true),
        ("HTTPS://H:1", "h:1", true),
        ("http://h:1", "h:2", false),
        ("http://evil", "h:1", false),
        ("null", "h:1", false),
        ("http://listed:9", "h:1", true),
        ("http://h:1", nil, false),
    ])
    func originRules(origin: String?, host: String?, allowed: Bool) {
        #expect(WebSocketOrigin.isAllowed(origin, host: host, listed: ["http://listed:9"]) == allowed)
    }
}
