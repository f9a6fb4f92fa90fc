import FastJSON
import Foundation
import HTTPServer
import Kafka
import KafkaGateway
import NIOCore
import Leaderboard
import Timeline

/// The parsers that read bytes a stranger chose: from the network (HTTP request heads,
/// paths, WebSocket origins, consumer-group assignments) or from a topic (post records,
/// leaderboard inputs, the board's changelog). Each run feeds one input and checks what must hold whatever the
/// bytes (no trap, round trips, no path outside the public folder); a violated property
/// stops the process, which libFuzzer reports as a crash with the input that caused it.
enum FuzzTarget: String, CaseIterable {
    case json
    case postRecord = "post-record"
    case leaderboard
    case boardChangelog = "board-changelog"
    case httpHead = "http-head"
    case staticPath = "static-path"
    case groupAssignment = "group-assignment"
    case kafkaFrame = "kafka-frame"

    func run(_ bytes: [UInt8]) {
        switch self {
        case .json: Self.json(bytes)
        case .postRecord: Self.postRecords(bytes)
        case .leaderboard: Self.leaderboard(bytes)
        case .boardChangelog: Self.boardChangelog(bytes)
        case .httpHead: Self.httpHead(bytes)
        case .staticPath: Self.staticPath(bytes)
        case .groupAssignment: _ = KafkaGroupDescription.decodeConsumerAssignment(bytes)
        case .kafkaFrame: Self.kafkaFrame(bytes)
        }
    }

    /// Records of one input, split at 0x1E (the ASCII record separator).
    static func records(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.split(separator: 0x1E, omittingEmptySubsequences: false).map(Array.init)
    }

    static func json(_ bytes: [UInt8]) {
        if let object = FlatJSON.parseObject(bytes) {
            // Strings the reader returns survive the writer and the reader again.
            for case .string(let text) in object.values {
                var encoded: [UInt8] = Array(#"{"k":"#.utf8)
                JSONWriter.appendString(text, to: &encoded)
                encoded.append(UInt8(ascii: "}"))
                guard case .string(let again)? = FlatJSON.parseObject(encoded)?["k"], again == text else {
                    fatalError("string did not round-trip: \(text.debugDescription)")
                }
            }
        }
        // Reading a few named fields agrees with the whole object's dictionary.
        let names: [StaticString] = ["user_id", "content", "seq", "ts", "k"]
        let whole = FlatJSON.parseObject(bytes).map { fields in names.map { fields[$0.description] } }
        guard FlatJSON.parseObject(bytes, fields: names) == whole else {
            fatalError("named fields differ from the dictionary's: \(bytes)")
        }
        _ = FlatJSON.parseArrayOfObjects(bytes)
    }

    /// Each record decoded as a post and, when it is one, applied to a timeline state:
    /// the path a record produced to `user-timeline` by anyone takes.
    static func postRecords(_ bytes: [UInt8]) {
        var state = TimelineState(capacity: 5)
        for (index, value) in records(bytes).enumerated() {
            guard case .success(let post) = PostRecord.decode(value) else { continue }
            guard case .success(let again) = PostRecord.decode(post.encoded()), again == post else {
                fatalError("post did not round-trip: \(post)")
            }
            let partition = Int32(value.first ?? 0) - 64
            state.apply(post, partition: partition, offset: Int64(index))
            if value.count % 7 == 0 { state.markHole(userID: post.userID, sequence: post.sequence &+ 1) }
        }
        _ = state.lastSequences
    }

    static let workshop = Workshop.default

    /// Records for the leaderboard's four input topics (the first byte of each picks
    /// the topic and whether it has a key), then a report of the whole board.
    static func leaderboard(_ bytes: [UInt8]) {
        var state = LeaderboardState(workshop: workshop)
        for (index, record) in records(bytes).enumerated() {
            guard let selector = record.first else { continue }
            let value = Array(record.dropFirst())
            let time = 1_795_000_000_000 + Int64(index) * 1000
            let key: String? = selector & 4 == 0 ? nil : "team-\(Int(selector >> 3) % 17)"
            switch selector & 3 {
            case 0: state.userSeen(value, at: time)
            case 1: _ = state.action(value, at: time)
            case 2: _ = state.teamStats(key: key, value: value, at: time)
            default: _ = state.watchlist(key: key, value: value, at: time)
            }
        }
        _ = state.takeUnlocks()
        _ = state.report(now: 1_795_000_000_000, groupInspection: "fuzz")
    }

    /// Records of `leaderboard_state` (the first byte picks the key: 0 `_board`, else a
    /// team), loaded as a restart loads them. A round that loads is restored into a board,
    /// which must report, and written again, which must load back the same.
    static func boardChangelog(_ bytes: [UInt8]) {
        var latest: [String: BoardChangelog.Record] = [:]
        for record in records(bytes) {
            guard let selector = record.first, let decoded = BoardChangelog.decode(Array(record.dropFirst())) else { continue }
            latest[selector == 0 ? BoardChangelog.boardKey : "team-\(Int(selector) % 17)"] = decoded
        }
        let now: Int64 = 1_795_000_000_000
        guard case .restored(let restored) = BoardChangelog.latest(latest, now: now) else { return }
        var state = LeaderboardState(workshop: workshop)
        state.restore(restored.board)
        _ = state.report(now: now, groupInspection: "fuzz")
        var held = HeldActions()
        held.restore(restored.held, now: .now)
        var again: [String: BoardChangelog.Record] = [:]
        for record in BoardChangelog.records(round: restored.round, board: restored.board, offsets: restored.offsets, held: restored.held) {
            again[record.key] = BoardChangelog.decode(record.value)
        }
        guard case .restored(let reloaded) = BoardChangelog.latest(again, now: now), reloaded.board == restored.board,
              reloaded.offsets == restored.offsets.sorted(by: { ($0.topic, $0.partition) < ($1.topic, $1.partition) })
        else {
            fatalError("a loaded round written again does not load back the same")
        }
    }

    static let rewriter = BrokerRewriter(advertisedHost: "192.0.2.1", gatewayPorts: [1: 9092, 2: 9093, 9092: 9092, 9093: 9093])
    static let identity = BrokerRewriter(advertisedHost: "192.0.2.1", gatewayPorts: [9092: 9092, 9093: 9093])

    /// The Kafka gateway's parsers: the bytes as a request (header, then the layout check
    /// the embedded cluster relies on) and as a response to the API and version of its
    /// first four bytes. A rewritten response must read back and rewrite to itself.
    static func kafkaFrame(_ bytes: [UInt8]) {
        var request = ByteBuffer(bytes: bytes)
        if let header = KafkaRequestHeader.read(from: &request) {
            _ = try? RequestValidator.validate(header, body: request)
            compactedGuard(bytes, header: header, body: request)
            // A group request and, read from the same bytes, an answer: the table the
            // board reads must take any pair.
            if let group = GroupRequest.read(apiKey: header.apiKey, version: header.apiVersion, body: request) {
                var table = GroupTable()
                let answer = GroupResponse.read(apiKey: header.apiKey, version: header.apiVersion, frame: ByteBuffer(bytes: bytes.dropFirst(4)))
                table.apply(group, answer, clientID: header.clientID ?? "", host: "/192.0.2.9", now: 1_000)
                table.apply(group, answer, clientID: "again", host: "/192.0.2.9", now: 2_000)
                table.expire(now: 10_000_000)
                guard table.listing.groups.isEmpty else { fatalError("members outlived their session") }
            }
        }
        guard bytes.count >= 4 else { return }
        let apiKey = [Int16(3), 10, 18][Int(bytes[0]) % 3]
        let version = Int16(bytes[1] % 10)
        let response = ByteBuffer(bytes: bytes.dropFirst(2))
        guard let rewritten = try? rewriter.rewrite(response, apiKey: apiKey, version: version) else { return }
        guard let again = try? identity.rewrite(rewritten, apiKey: apiKey, version: version), again == rewritten else {
            fatalError("a rewritten response does not read back as itself")
        }
    }

    /// A Produce request with a keyless record for a compacted topic is rewritten: what
    /// goes up instead must still fit the request's layout and refuse nothing more; the
    /// same bytes read as its answer are patched without trapping.
    static func compactedGuard(_ bytes: [UInt8], header: KafkaRequestHeader, body: ByteBuffer) {
        let frame = ByteBuffer(bytes: bytes)
        let compacted: Set<String> = ["t", "team_stats", ""]
        guard (try? RequestValidator.validate(header, body: body)) != nil,
              let refusal = CompactedTopicGuard.refusal(frame: frame, header: header, body: body, compacted: compacted)
        else { return }
        var request = refusal.request
        guard let again = KafkaRequestHeader.read(from: &request), again == header, (try? RequestValidator.validate(again, body: request)) != nil else {
            fatalError("the request sent up instead does not fit its layout")
        }
        guard CompactedTopicGuard.refusal(frame: refusal.request, header: again, body: request, compacted: compacted) == nil else {
            fatalError("the request sent up instead still carries a keyless record")
        }
        _ = CompactedTopicGuard.refuse(refusal.positions, in: ByteBuffer(bytes: bytes.dropFirst(4)), version: header.apiVersion)
    }

    static let router: Router = {
        var router = Router()
        router.reserve(prefix: "/api/")
        for (method, pattern) in [
            (HTTPMethod.get, "/healthz"), (.post, "/api/send-message"), (.get, "/api/timeline/{user_id}"), (.get, "/api/teams/{team}"),
            (.post, "/api/admin/faults"), (.get, "/api/users"),
        ] {
            router.on(method, pattern) { _ throws(HTTPError) in .json(["ok": true]) }
        }
        return router
    }()

    /// A request head as lines: method, path, Content-Length, Transfer-Encoding flag,
    /// Origin, Host; then the body's first bytes.
    static func httpHead(_ bytes: [UInt8]) {
        let lines = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 6, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        func line(_ index: Int) -> String? { index < lines.count ? lines[index] : nil }
        let method = HTTPMethod(rawValue: line(0) ?? "") ?? .post
        let path = line(1) ?? "/"
        var headers = HTTPHeaders()
        if let length = line(2), !length.isEmpty { headers.contentLength = length }
        let refusal = RequestFraming.error(method: method, path: path, headers: headers, hasTransferEncoding: line(3) == "chunked")
        if let length = headers.contentLength, let parsed = RequestFraming.contentLength(length) {
            let significant = length.drop { $0 == "0" }
            guard parsed >= 0, String(parsed) == (significant.isEmpty ? "0" : String(significant)) else {
                fatalError("Content-Length \(length.debugDescription) read as \(parsed)")
            }
        }
        if refusal == nil, method.hasBody, RequestFraming.contentLength(headers.contentLength ?? "") == nil {
            fatalError("a body without a usable length was let through")
        }
        _ = router.match(method, path)
        _ = router.isReserved(path)
        _ = WebSocketOrigin.isAllowed(line(4), host: line(5), listed: ["http://listed:1"])
        let body = Array((line(6) ?? "").utf8)
        _ = body.withUnsafeBytes { RequestFraming.echoesRequestLine($0, method: method) }
    }

    /// A public folder with one file and a secret beside it, made once per process.
    static let publicFolder: String = {
        let root = NSTemporaryDirectory() + "streamsocial-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: root + "/public/sub", withIntermediateDirectories: true)
        for (path, text) in [("/public/index.html", "<h1>hi</h1>"), ("/public/sub/a.js", "1"), ("/secret.txt", "secret")] {
            _ = FileManager.default.createFile(atPath: root + path, contents: Data(text.utf8))
        }
        return root + "/public"
    }()

    static let files = StaticFiles(mounts: [.init(prefix: "/", directory: publicFolder)])

    /// Whatever the path, a resolved file lies inside the public folder.
    static func staticPath(_ bytes: [UInt8]) {
        let path = String(decoding: bytes, as: UTF8.self)
        guard let file = files.resolve(path) else { return }
        let real = URL(fileURLWithPath: file.path).resolvingSymlinksInPath().path
        let folder = URL(fileURLWithPath: publicFolder).resolvingSymlinksInPath().path
        guard real.hasPrefix(folder + "/") else { fatalError("\(path.debugDescription) resolved outside the public folder: \(real)") }
    }
}
