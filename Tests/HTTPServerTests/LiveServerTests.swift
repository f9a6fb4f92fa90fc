import Dispatch
import Foundation
import HTTPServer
import HTTPTestSupport
import Logging
import Synchronization
import Testing

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// Starts a real server on a free loopback port for one test.
final class LiveServer {
    let server: HTTPServer
    let port: Int
    let publicDir: String
    /// A file beside the public folder that no request may read.
    var secretPath: String { Self.secretPath(beside: publicDir) }

    static func secretPath(beside publicDir: String) -> String {
        publicDir + "/../secret-\(URL(fileURLWithPath: publicDir).lastPathComponent).txt"
    }

    init(
        configure: (inout Router) -> Void = { _ in }, webSocket: WebSocketEvents = .init(), timeout: Duration = .seconds(10),
        eventLoop: HTTPServerConfiguration.EventLoop = .epoll, webSocketBacklog: Int = HTTPServerConfiguration().webSocketBacklog
    ) throws {
        publicDir = NSTemporaryDirectory() + "public-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: publicDir, withIntermediateDirectories: true)
        try Data("<h1>StreamSocial</h1>".utf8).write(to: URL(fileURLWithPath: publicDir + "/index.html"))
        try Data("TOP-SECRET-CONTENT".utf8).write(to: URL(fileURLWithPath: Self.secretPath(beside: publicDir)))

        var router = Router()
        router.get("/api/echo/{name}") { request in
            .json(["name": request.pathParameters["name"] ?? "", "q": request.query["q"] ?? ""])
        }
        router.post("/api/echo") { request, responder in
            responder.respond(HTTPResponse(status: 201, body: request.body))
        }
        router.post("/api/later") { request, responder in
            // Answer from another thread, as the Kafka delivery path does.
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) {
                responder.respond(.json(["late": true], status: 201))
            }
        }
        router.post("/api/never") { _, _ in }
        router.get("/api/fail") { _ throws(HTTPError) in throw .badRequest("nope", code: "bad_thing") }
        configure(&router)

        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.staticMounts = [.init(prefix: "/", directory: publicDir)]
        configuration.responseTimeout = timeout
        configuration.eventLoop = eventLoop
        configuration.webSocketBacklog = webSocketBacklog
        server = HTTPServer(configuration: configuration, logger: quietLogger)
        port = try server.start(router: router, webSocket: webSocket)
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: secretPath)  // before its sibling: the path goes through it
        try? FileManager.default.removeItem(atPath: publicDir)
    }

    func client() throws -> TestHTTPClient { try TestHTTPClient(port: port) }
}

@Suite("HTTP server over real sockets")
struct LiveServerTests {
    @Test("GET routes with path parameters and query strings answer JSON")
    func getRoute() throws {
        let live = try LiveServer()
        let response = try live.client().get("/api/echo/alice?q=hello%20world&x=1")
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.json?["name"] as? String == "alice")
        #expect(response.json?["q"] as? String == "hello world")
    }

    @Test("a POST body comes back intact; a deferred answer from another thread arrives")
    func postAndDeferred() throws {
        let live = try LiveServer()
        let client = try live.client()
        let echoed = try client.postJSON("/api/echo", #"{"user_id":"alice"}"#)
        #expect(echoed.status == 201)
        #expect(echoed.text == #"{"user_id":"alice"}"#)
        let later = try client.postJSON("/api/later", "{}")
        #expect(later.status == 201)
        #expect(later.json?["late"] as? Bool == true)
    }

    /// libwebsockets 4.1 reads a POST that announces neither Content-Length nor
    /// chunked encoding as a body running to the end of the connection (it assumes up to
    /// 100 MB), so a body-less POST must say `Content-Length: 0`; browsers' fetch does.
    @Test("a body-less POST with Content-Length: 0 is answered at once and the connection kept")
    func emptyPost() throws {
        let live = try LiveServer { router in
            router.on(.post, "/api/ping", body: Router.Body.none) { request throws(HTTPError) in .json(["bytes": request.body.count]) }
        }
        let client = try live.client()
        for _ in 0..<3 {
            let ping = try client.request("POST", "/api/ping", headers: ["Content-Length": "0"])
            #expect(ping.status == 200)
            #expect(ping.json?["bytes"] as? Int == 0)
        }
        #expect(try client.get("/api/echo/x").status == 200)
    }

    @Test("a handler that never answers gets the client a 504 JSON error at the deadline", arguments: HTTPServerConfiguration.EventLoop.allCases)
    func deadline(eventLoop: HTTPServerConfiguration.EventLoop) throws {
        let live = try LiveServer(timeout: .milliseconds(300), eventLoop: eventLoop)
        let client = try live.client()
        let start = ContinuousClock.now
        let response = try client.postJSON("/api/never", "{}")
        #expect(response.status == 504)
        #expect(response.errorCode == "timeout")
        #expect(ContinuousClock.now - start < .seconds(3))
        // The connection is still usable afterwards.
        #expect(try client.get("/api/echo/x").status == 200)
    }

    @Test("errors are JSON with the right status", arguments: [
        ("GET", "/api/nothing-here", nil as String?, nil as String?, 404, "not_found"),
        ("DELETE", "/api/echo", nil, nil, 405, "method_not_allowed"),
        ("POST", "/api/echo", "text/plain", "hello", 415, "unsupported_media_type"),
        ("POST", "/api/echo", nil, "{}", 415, "unsupported_media_type"),
        ("GET", "/api/fail", nil, nil, 400, "bad_thing"),
    ])
    func errors(method: String, path: String, contentType: String?, body: String?, status: Int, code: String) throws {
        let live = try LiveServer()
        var headers: [String: String] = [:]
        if let contentType { headers["Content-Type"] = contentType }
        let response = try live.client().request(method, path, headers: headers, body: body.map { Array($0.utf8) })
        #expect(response.status == status)
        #expect(response.errorCode == code)
        #expect(response.headers["content-type"] == "application/json")
    }

    @Test("HEAD on a GET route: the headers with the body's length, no body; the connection goes on")
    func head() throws {
        let live = try LiveServer()
        let client = try live.client()
        let head = try client.request("HEAD", "/api/echo/alice")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.headers["content-length"] == String(try live.client().get("/api/echo/alice").body.count))
        #expect(try client.get("/api/echo/after").json?["name"] as? String == "after")
    }

    @Test("405 says which methods are allowed")
    func allowHeader() throws {
        let live = try LiveServer()
        let response = try live.client().get("/api/echo")
        #expect(response.status == 405)
        #expect(response.headers["allow"] == "POST")
    }

    @Test("a body over 64 KiB is 413, announced or streamed, and the connection stays usable")
    func tooLarge() throws {
        let live = try LiveServer()
        let client = try live.client()
        let big = Array(repeating: UInt8(ascii: "a"), count: 64 * 1024 + 1)
        let response = try client.request("POST", "/api/echo", headers: ["Content-Type": "application/json"], body: big)
        #expect(response.status == 413)
        #expect(response.errorCode == "payload_too_large")
        #expect(try client.get("/api/echo/after").status == 200)

        // Exactly the limit is accepted.
        let limit = Array(repeating: UInt8(ascii: "a"), count: 64 * 1024)
        #expect(try live.client().request("POST", "/api/echo", headers: ["Content-Type": "application/json"], body: limit).status == 201)

        // Chunked, with no length announced: refused before any of it is read (411;
        // libwebsockets 4.1 cannot decode chunked request bodies).
        let socket = try TestSocket(host: "127.0.0.1", port: live.port)
        var chunked = Array("POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        for _ in 0..<5 { chunked += Array("4000\r\n".utf8) + Array(repeating: UInt8(ascii: "b"), count: 0x4000) + Array("\r\n".utf8) }
        chunked += Array("0\r\n\r\n".utf8)
        try? socket.write(chunked)
        let head = String(decoding: try socket.readUntil(Array("\r\n".utf8)), as: UTF8.self)
        #expect(head.contains(" 411"), "\(head)")
    }

    @Test("static files are served with their content type; nothing outside Public/ is", arguments: [
        "/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/./../secret.txt", "//../secret.txt", "/.%2e/secret.txt",
    ])
    func staticFiles(attack: String) throws {
        let live = try LiveServer()
        let client = try live.client()
        let index = try client.get("/")
        #expect(index.status == 200)
        #expect(index.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(index.text.contains("StreamSocial"))
        // The security headers libwebsockets adds (CSP forbids inline scripts).
        #expect(index.headers["content-security-policy"] != nil)

        let secretName = "/secret-\(URL(fileURLWithPath: live.publicDir).lastPathComponent).txt"
        let path = attack.replacingOccurrences(of: "/secret.txt", with: secretName)
        let response = try live.client().get(path)
        #expect(!response.text.contains("TOP-SECRET-CONTENT"), "\(path) served a file outside Public/")
        #expect(response.status != 200 || response.text.contains("StreamSocial"))
    }

    @Test("1,000 requests on one keep-alive connection are all answered", arguments: HTTPServerConfiguration.EventLoop.allCases)
    func keepAlive(eventLoop: HTTPServerConfiguration.EventLoop) throws {
        let live = try LiveServer(eventLoop: eventLoop)
        let client = try live.client()
        var answered = 0
        for index in 0..<1000 {
            let response = try client.get("/api/echo/n\(index)")
            if response.status == 200, response.json?["name"] as? String == "n\(index)" { answered += 1 }
        }
        #expect(answered == 1000)
    }

    /// A POST sent once the previous answer is in is never taken for a pipelined one
    /// (400 pipelined_body), whichever loop serves it, and gets its own body back.
    @Test("1,000 POSTs one after the other on one keep-alive connection are all answered with their bodies", arguments: HTTPServerConfiguration.EventLoop.allCases)
    func keepAlivePosts(eventLoop: HTTPServerConfiguration.EventLoop) throws {
        let live = try LiveServer(eventLoop: eventLoop)
        let client = try live.client()
        var statuses: [Int: Int] = [:]
        var echoed = 0
        for index in 0..<1000 {
            let body = #"{"n":\#(index)}"#
            let response = try client.postJSON("/api/echo", body)
            statuses[response.status, default: 0] += 1
            if response.body == Array(body.utf8) { echoed += 1 }
        }
        #expect(statuses == [201: 1000])
        #expect(echoed == 1000)
    }

    @Test("the server waits on epoll unless told to poll")
    func eventLoopInUse() throws {
        #expect(try LiveServer().server.eventLoop == .epoll)
        #expect(try LiveServer(eventLoop: .poll).server.eventLoop == .poll)
    }

    @Test("200 concurrent connections are all answered")
    func concurrentConnections() throws {
        let live = try LiveServer()
        let clients = try (0..<200).map { _ in try live.client() }
        // All 200 requests are in flight at once (each answered 50 ms later from
        // another thread) before any response is read.
        for client in clients {
            try client.send("POST", "/api/later", headers: ["Content-Type": "application/json"], body: Array("{}".utf8))
        }
        let answered = Atomic<Int>(0)
        for client in clients where (try? client.readResponse(method: "POST"))?.status == 201 {
            answered.add(1, ordering: .relaxed)
        }
        #expect(answered.load(ordering: .relaxed) == 200)
    }

    @Test("WebSocket clients on /ws receive broadcasts on their channels; other paths are refused")
    func webSocket() throws {
        let connected = Atomic<Int>(0)
        let received = Mutex<[String]>([])
        let live = try LiveServer(webSocket: WebSocketEvents(
            onConnect: { _ in connected.add(1, ordering: .relaxed) },
            onMessage: { _, text in received.withLock { $0.append(text) } }
        ))
        let all = try TestWebSocket(port: live.port)
        let picky = try TestWebSocket(port: live.port)
        #expect(all.handshakeStatus == 101)
        #expect(eventually { connected.load(ordering: .relaxed) == 2 })

        try picky.send("hello server")
        #expect(eventually { received.withLock { $0 } == ["hello server"] })

        live.server.hub.broadcast(#"{"type":"message","n":1}"#, channel: "messages")
        #expect(try all.receive() == #"{"type":"message","n":1}"#)
        #expect(try picky.receive() == #"{"type":"message","n":1}"#)
        #expect(live.server.hub.clientCount == 2)

        // Refused: either an HTTP error status or the connection is closed.
        let refused = try? TestWebSocket(port: live.port, path: "/not-ws")
        #expect(refused == nil || refused?.handshakeStatus != 101)
    }

    /// Stopped, the server used to drop its WebSockets (the page saw 1006 and waited out
    /// its backoff); it now says goodbye.
    @Test("stopping closes every WebSocket with 1001, going away")
    func goingAway() throws {
        let live = try LiveServer()
        let sockets = try (0..<3).map { _ in try TestWebSocket(port: live.port) }
        #expect(eventually { live.server.hub.clientCount == 3 })
        let stopped = Atomic<Bool>(false)
        let began = ContinuousClock.now
        let server = live.server
        DispatchQueue.global().async {
            server.stop()
            stopped.store(true, ordering: .relaxed)
        }
        for socket in sockets {
            let error = #expect(throws: HTTPClientError.self) { _ = try socket.receive() }
            #expect(error?.description == "websocket closed with 1001")
        }
        #expect(eventually { stopped.load(ordering: .relaxed) })
        // Alone this stop takes a few milliseconds: by design at most half a second and the
        // context's teardown, never the 5 s libwebsockets would wait for each close reply
        // (these clients send none). The bound leaves room for a starved machine: in the
        // full suite on CI's 2 cores it once took 2.1 s.
        #expect(ContinuousClock.now - began < .seconds(4))
    }

    @Test("a client that subscribed to some channels gets only those")
    func channels() throws {
        let clients = Mutex<[WebSocketClientID]>([])
        let live = try LiveServer(webSocket: WebSocketEvents(onConnect: { id in clients.withLock { $0.append(id) } }))
        let socket = try TestWebSocket(port: live.port)
        #expect(eventually { clients.withLock { $0.count } == 1 })
        let id = try #require(clients.withLock { $0.first })
        live.server.hub.subscribe(id, to: ["lag"])
        live.server.hub.broadcast("skip", channel: "messages")
        live.server.hub.broadcast("keep", channel: "lag")
        #expect(try socket.receive() == "keep")
    }

    @Test("a channel's kept snapshot is sent on connect and on subscribe, the newest one, before the updates after it")
    func keptSnapshots() throws {
        let clients = Mutex<[WebSocketClientID]>([])
        let live = try LiveServer(webSocket: WebSocketEvents(onConnect: { id in clients.withLock { $0.append(id) } }))
        live.server.hub.keepSnapshot("lag-1", channel: "lag")
        live.server.hub.broadcastSnapshot("messages-1", channel: "messages")  // to nobody yet
        live.server.hub.keepSnapshot("lag-2", channel: "lag")  // replaces lag-1

        let socket = try TestWebSocket(port: live.port)
        // On connect: each channel's newest snapshot, in the order channels first kept one.
        #expect(try socket.receive() == "lag-2")
        #expect(try socket.receive() == "messages-1")
        #expect(eventually { clients.withLock { $0.count } == 1 })
        let id = try #require(clients.withLock { $0.first })

        // An update with the snapshot after it: a client gets the update, a later
        // subscriber the new snapshot alone.
        live.server.hub.broadcast("update-2", channel: "messages", snapshotAfter: "messages-2")
        #expect(try socket.receive() == "update-2")
        live.server.hub.subscribe(id, to: ["messages"])
        #expect(try socket.receive() == "messages-2")
        // Not subscribed to lag any more: its snapshot and updates are not sent.
        live.server.hub.broadcastSnapshot("lag-3", channel: "lag")
        live.server.hub.broadcast("update-3", channel: "messages")
        #expect(try socket.receive() == "update-3")
        live.server.hub.subscribe(id, to: ["lag", "messages"])
        #expect(try socket.receive() == "lag-3")
        #expect(try socket.receive() == "messages-2")
    }

    /// Frames queued for one client go out framed by the server in one send, up to
    /// `ServiceLoop.maxBatchBytes` a send. Each must still arrive whole, in order, as its
    /// own message: lengths in all three header forms, and a burst larger than one send.
    @Test("a burst of queued frames arrives as separate, whole messages, in order", arguments: HTTPServerConfiguration.EventLoop.allCases)
    func burst(eventLoop: HTTPServerConfiguration.EventLoop) throws {
        let live = try LiveServer(eventLoop: eventLoop)
        let sizes = [0, 1, 125, 126, 200, 65_535, 65_536, 70_000, 3, 200_000, 300_000, 10]
        let texts = sizes.enumerated().map { index, size in
            String(repeating: String(UnicodeScalar(UInt8(97 + index))), count: size)
        }
        // Kept snapshots, one per channel, are all queued for a client as it connects.
        for (index, text) in texts.enumerated() { live.server.hub.keepSnapshot(text, channel: "channel-\(index)") }
        let socket = try TestWebSocket(port: live.port)
        for text in texts {
            let received = try socket.receive()
            #expect(received.utf8.count == text.utf8.count)
            #expect(received == text)
        }
        // And the updates after them, queued together.
        #expect(eventually { live.server.hub.clientCount == 1 })
        for (index, text) in texts.enumerated().reversed() { live.server.hub.broadcast(text, channel: "channel-\(index)") }
        for text in texts.reversed() { #expect(try socket.receive() == text) }
    }

    /// Broadcasts are written straight to a client's socket when nothing waits for it.
    /// Once a client stops reading, its socket fills, libwebsockets keeps the unsent part
    /// of one frame, and what follows must queue in the client's bounded backlog, not
    /// in libwebsockets' unbounded buffer: the oldest frames are dropped, the newest
    /// arrive.
    @Test("a client that stops reading gets its backlog's newest frames, not every frame", arguments: HTTPServerConfiguration.EventLoop.allCases)
    func slowClient(eventLoop: HTTPServerConfiguration.EventLoop) throws {
        let live = try LiveServer(eventLoop: eventLoop, webSocketBacklog: 16)
        let socket = try TestWebSocket(port: live.port, timeoutSeconds: 10)
        #expect(eventually { live.server.hub.clientCount == 1 })
        // 32 MiB in all: more than loopback's socket buffers hold (a few MiB).
        let count = 1_000
        let padding = String(repeating: "x", count: 32 * 1024)
        for index in 0..<count { live.server.hub.broadcast("\(index) \(padding)", channel: "messages") }
        #expect(eventually(timeout: .seconds(10)) { live.server.hub.droppedFrames > 0 })
        var received: [Int] = []
        while received.last != count - 1 {
            let text = try socket.receive()
            received.append(Int(text.prefix { $0 != " " }) ?? -1)
        }
        #expect(received.count < count / 2)
        #expect(received == received.sorted())
        // The backlog's frames, whole and in order, after what the socket held.
        #expect(Array(received.suffix(16)) == Array((count - 16)..<count))
    }

    /// An answer from another thread waits for its connection's writable callback (the
    /// trial that wrote it at once from the command drain was dropped, see
    /// docs/BENCHMARKS.md, ninth session): a client that asked to close must still get
    /// all of it before the connection closes, and a kept connection must go on to its
    /// next request.
    @Test("an answer from another thread arrives whole, then the connection closes or goes on as asked", arguments: HTTPServerConfiguration.EventLoop.allCases)
    func lateAnswerThenClose(eventLoop: HTTPServerConfiguration.EventLoop) throws {
        let live = try LiveServer(eventLoop: eventLoop)
        let closing = try TestSocket(host: "127.0.0.1", port: live.port)
        try closing.write(Array("POST /api/later HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".utf8))
        let sent = ContinuousClock.now
        let text = String(decoding: try closing.readToEnd(), as: UTF8.self)
        // Closed within libwebsockets' 1 s tick (where 4.1 ends a closing connection,
        // whichever callback wrote its answer), not at the keep-alive timeout.
        #expect(ContinuousClock.now - sent < .seconds(3))
        #expect(text.hasPrefix("HTTP/1.1 201"))
        #expect(text.hasSuffix(#"{"late":true}"#))

        let kept = try live.client()
        for _ in 0..<3 {
            let response = try kept.postJSON("/api/later", "{}")
            #expect(response.status == 201)
            #expect(response.text == #"{"late":true}"#)
        }
    }

    /// A client in a loop reads its answer and sends the next request at once. When the
    /// stop's drain began between the two, with nothing in flight, the drain used to
    /// return at once and the close cut that next request (GracefulStopTests caught it
    /// now and then under load). It must be answered `503 stopping` instead; a
    /// connection quiet for longer than the grace must not hold the stop up.
    @Test("a drain waits briefly for a client answered just before it: its next request is refused, not cut", arguments: HTTPServerConfiguration.EventLoop.allCases)
    func drainWaitsForKeptAliveClient(eventLoop: HTTPServerConfiguration.EventLoop) throws {
        let live = try LiveServer(eventLoop: eventLoop)
        let quiet = try live.client()
        #expect(try quiet.postJSON("/api/echo", "{}").status == 201)
        Thread.sleep(forTimeInterval: 0.8)  // longer than the grace: not waited for
        let client = try live.client()
        #expect(try client.postJSON("/api/echo", "{}").status == 201)

        let (draining, stopped) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        let drainTook = Mutex<Duration?>(nil)
        let server = live.server
        // A thread of its own: the global queue may start a block late, after the client.
        Thread {
            let began = ContinuousClock.now
            draining.signal()
            server.drain(timeout: .seconds(3))
            drainTook.withLock { $0 = ContinuousClock.now - began }
            server.stop()
            stopped.signal()
        }.start()
        draining.wait()
        Thread.sleep(forTimeInterval: 0.1)  // a slow client, well inside the grace
        let next = try client.postJSON("/api/echo", "{}")
        #expect(next.status == 503)
        #expect(next.errorCode == "stopping")
        #expect(next.headers["connection"]?.lowercased() == "close")
        stopped.wait()
        // Released by the request above, not by the grace running out.
        let took = try #require(drainTook.withLock { $0 })
        #expect(took < .milliseconds(450), "the drain took \(took)")
    }

    @Test("a busy port is a start error, not a crash")
    func busyPort() throws {
        let live = try LiveServer()
        var configuration = HTTPServerConfiguration()
        configuration.port = live.port
        let second = HTTPServer(configuration: configuration, logger: quietLogger)
        #expect(throws: HTTPServer.StartError.self) { try second.start(router: Router()) }
    }
}

