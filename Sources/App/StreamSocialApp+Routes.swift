import ServerSupport
import FastJSON
import Dispatch
import Foundation
import HTTPServer
import Kafka
import Leaderboard
import Logging
import Synchronization
import Timeline

/// What `/api/status` reports that does not change while running.
struct StatusContext: Sendable {
    var mode: StreamSocialApp.KafkaMode
    var bootstrapServers: String
    var startedAt: ContinuousClock.Instant
}

/// The HTTP API. Handlers run on the HTTP service thread; anything that blocks (Kafka
/// metadata) or scans many users runs on a queue and answers later.
struct Routes: Sendable {
    let producer: KafkaProducer
    let admin: KafkaAdmin
    let adminQueue: DispatchQueue
    let timelines: TimelineService
    let lag: LagMonitor
    let kafkaHealth: KafkaHealth
    let leaderboard: LeaderboardService
    let generator: GeneratorControl
    let simulator: SimulatorControl
    let faults: FaultControl
    /// `/api/admin/...` answers only with `Authorization: Bearer <token>`; nil disables them.
    let adminToken: String?
    let hub: WebSocketHub
    let status: StatusContext
    let logger: Logger
    /// Reports over every user (sorting, filtering) are built here.
    let reportQueue = DispatchQueue(label: "streamsocial.reports")

    static let maxBatch = 500

    func router() -> Router {
        var router = Router()
        router.reserve(prefix: "/api/")
        router.on(.get, "/healthz", respond: health)
        router.on(.get, "/api/status", respond: statusReport)
        router.on(.post, "/api/send-message", handler: sendMessage)
        router.on(.post, "/api/send-messages", maxBodySize: 1024 * 1024, handler: sendMessages)
        router.on(.get, "/api/timeline/{user_id}", respond: timeline)
        router.on(.get, "/api/users") { request, responder in reportQueue.async { responder.respond(users(request)) } }
        router.on(.get, "/api/partitions") { _, responder in
            reportQueue.async { responder.respond(.json(timelines.partitionReport(now: currentSecond()))) }
        }
        router.on(.get, "/api/ordering") { _, responder in reportQueue.async { responder.respond(.json(timelines.orderingReport())) } }
        router.on(.get, "/api/metrics", respond: metrics)
        router.on(.get, "/api/leaderboard") { _, responder in reportQueue.async { responder.respond(.json(leaderboard.report())) } }
        // The detail carries the team's leaderboard row: the whole board is ranked for it.
        router.on(.get, "/api/teams/{team}") { request, responder in
            reportQueue.async {
                do throws(HTTPError) { responder.respond(try team(request)) } catch { responder.respond(error) }
            }
        }
        router.on(.get, "/api/team-stats") { _ throws(HTTPError) in
            let latest = leaderboard.keyedViews().teamStats
            return .json(KeyedValues(records: latest.values.sorted { ($0.team, $0.key ?? "") < ($1.team, $1.key ?? "") }, watchlisted: nil))
        }
        router.on(.get, "/api/watchlist") { _ throws(HTTPError) in
            let views = leaderboard.keyedViews()
            let (latest, listed) = (views.watchlist, views.watchlisted)
            return .json(KeyedValues(records: latest.values.sorted { ($0.company ?? "", $0.key ?? "") < ($1.company ?? "", $1.key ?? "") }, watchlisted: listed))
        }
        router.on(.get, "/api/admin/generator", respond: admin(generatorSettings))
        router.on(.post, "/api/admin/generator", respond: admin(changeGenerator))
        router.on(.get, "/api/admin/simulator", respond: admin { _ throws(HTTPError) in .json(simulator.status()) })
        router.on(.post, "/api/admin/simulator", respond: admin(resizeSimulator))
        router.on(.get, "/api/admin/faults", respond: admin { _ throws(HTTPError) in .json(faults.current) })
        router.on(.post, "/api/admin/faults", handler: admin { request, responder in
            let action: FaultControl.Action
            do throws(HTTPError) {
                action = try faults.parse(Self.object(request.body))
            } catch {
                responder.respond(error)
                return
            }
            // The mock cluster answers on its own thread: not on this one.
            adminQueue.async {
                do throws(HTTPError) {
                    let status = try faults.apply(action)
                    logger.notice("fault injected", metadata: ["fault": .string("\(action)")])
                    responder.respond(.json(status))
                } catch {
                    responder.respond(error)
                }
            }
        })
        router.on(.post, "/api/admin/reset", body: Router.Body.none, handler: admin { _, responder in
            // Waits for records being applied, then encodes a snapshot: not on this thread.
            adminQueue.async { responder.respond(.json(SessionReset(sessionStartedAt: leaderboard.resetSession()))) }
        })
        return router
    }

    // MARK: Health and status

    /// 200 when Kafka answered a metadata request in the last check, 503 with the reason
    /// otherwise. Answered at once from ``KafkaHealth``, whatever Kafka does.
    func health(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let check = kafkaHealth.check
        if let reason = check.unavailableReason() {
            throw HTTPError(status: 503, code: "kafka_unavailable", message: reason)
        }
        return .json(HealthReport(status: "ok", brokers: check.metadata?.brokers.count ?? 0))
    }

    /// Answered at once: the cluster as last checked, the feed, the timelines' state.
    func statusReport(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        var kafka = StatusReport.Kafka(
            mode: status.mode.rawValue, bootstrapServers: status.bootstrapServers, reachable: false, error: nil, brokers: [], topics: [],
            durable: status.mode == .external,
            note: status.mode == .embedded ? "embedded Kafka: in memory, lost on restart" : nil
        )
        // One read of the check: reachability, brokers and topics from the same look.
        let check = kafkaHealth.check
        if let reason = check.unavailableReason() {
            kafka.error = reason
        } else {
            kafka.reachable = true
        }
        if let metadata = check.metadata {
            kafka.brokers = metadata.brokers.map { StatusReport.Broker(id: $0.id, host: $0.host, port: $0.port) }
            kafka.topics = metadata.topics.filter { !$0.name.hasPrefix("__") }.map { StatusReport.Topic(name: $0.name, partitions: $0.partitionCount) }
        }
        let snapshot = timelines.messagesSnapshot()
        let uptime = ContinuousClock.now - status.startedAt
        return .json(StatusReport(
            version: StreamSocialVersion.current,
            uptimeSeconds: uptime.inSeconds,
            kafka: kafka,
            websocketClients: hub.clientCount,
            websocketDroppedFrames: hub.droppedFrames,
            feed: .init(consumed: snapshot.consumed, malformed: snapshot.malformed),
            timelines: .init(readiness: timelines.readiness)
        ))
    }

    // MARK: Posting

    /// Produces a post keyed per its strategy; answers 201 only once the broker acknowledged.
    func sendMessage(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let post: PostMessage
        do throws(FieldError) {
            post = try PostMessage.parse(request.body)
        } catch {
            responder.respond(HTTPError.badRequest(error.message, code: error.code))
            return
        }
        if let unavailable = notReady() {
            responder.respond(unavailable)
            return
        }
        produce(post) { result in
            switch result {
            case .success(let accepted): responder.respond(HTTPResponse(status: 201, body: accepted.json))
            case .failure(let error): responder.respond(error)
            }
        }
    }

    /// Up to 500 posts; each is answered on its own, in order.
    func sendMessages(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard let items = FlatJSON.parseArrayOfObjects(request.body) else {
            responder.respond(HTTPError.badRequest("the body must be a JSON array of posts", code: "invalid_json"))
            return
        }
        guard !items.isEmpty else {
            responder.respond(HTTPError.badRequest("the array is empty", code: "invalid_field"))
            return
        }
        guard items.count <= Self.maxBatch else {
            responder.respond(HTTPError.badRequest("at most \(Self.maxBatch) posts per request, got \(items.count)", code: "too_many_items"))
            return
        }
        let unavailable = notReady()
        let batch = BatchResults(count: items.count) { results in
            responder.respond(.json(BatchResponse(results: results), status: 200))
        }
        for (index, item) in items.enumerated() {
            guard let fields = item else {
                batch.set(index, .rejected(HTTPError.badRequest("each item must be a JSON object", code: "invalid_field")))
                continue
            }
            let post: PostMessage
            do throws(FieldError) {
                post = try PostMessage.parse(fields: fields)
            } catch {
                batch.set(index, .rejected(HTTPError.badRequest(error.message, code: error.code)))
                continue
            }
            if let unavailable {
                batch.set(index, .rejected(unavailable))
                continue
            }
            produce(post) { result in
                switch result {
                case .success(let accepted): batch.set(index, .accepted(accepted))
                case .failure(let error): batch.set(index, .rejected(error))
                }
            }
        }
    }

    /// 503 while posts cannot get a safe sequence number yet.
    private func notReady() -> HTTPError? {
        switch timelines.readiness {
        case .ready:
            nil
        case .waitingForKafka(let reason):
            HTTPError(status: 503, code: "kafka_unavailable", message: "Kafka is not reachable: \(reason)")
        case .joiningGroup:
            HTTPError(
                status: 503, code: "recovering",
                message: "the timeline consumer is joining its group; retry shortly", headers: [("retry-after", "1")]
            )
        case .replaying(let remaining):
            HTTPError(
                status: 503, code: "recovering",
                message: "rebuilding timelines from Kafka (\(remaining) records to go); retry shortly", headers: [("retry-after", "1")]
            )
        }
    }

    /// Assigns the user's next sequence number and produces; `completion` runs once the
    /// broker acknowledged or the send failed (then the number is a known hole).
    private func produce(_ post: PostMessage, completion: @escaping @Sendable (Result<SendMessageResponse, HTTPError>) -> Void) {
        let timestamp = currentMilliseconds()
        guard let sequence = timelines.nextSequence(for: post.userID) else {
            completion(.failure(HTTPError(
                status: 409, code: "sequence_exhausted",
                message: "\(post.userID)'s sequence numbers are used up (a record in user-timeline set them to \(PostRecord.maxSequence)): post as another user"
            )))
            return
        }
        let record = PostRecord(userID: post.userID, content: post.content, sequence: sequence, timestamp: timestamp)
        producer.send(topic: Topics.userTimeline.name, key: post.keyStrategy.key(for: post.userID), value: record.encoded()) { result in
            switch result {
            case .success(let report):
                timelines.sendSucceeded(at: timestamp / 1000)
                completion(.success(SendMessageResponse(
                    userID: post.userID, sequence: sequence, partition: report.partition, offset: report.offset, timestamp: timestamp
                )))
            case .failure(let error):
                timelines.sendFailed(userID: post.userID, sequence: sequence)
                logger.warning("send failed", metadata: [
                    "kafka.error": .string(error.description), "user_id": .string(post.userID), "seq": .stringConvertible(sequence),
                ])
                completion(.failure(HTTPError.kafka(error)))
            }
        }
    }

    // MARK: Leaderboard

    func team(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let name = request.pathParameters["team"] ?? ""
        guard let row = leaderboard.report().teams.first(where: { $0.team == name }),
              let definition = leaderboard.workshop.team(named: name),
              let state = leaderboard.team(named: name)
        else {
            throw HTTPError(status: 404, code: "unknown_team", message: "no team \(name) in this workshop")
        }
        return .json(TeamDetail(row: row, rule: definition.description, type: definition.type, reason: definition.reason, state: state))
    }

    /// Lets instructor routes through: 401 without the right bearer token, 403 when no
    /// token is configured (the routes are off).
    func authorize(_ request: HTTPRequest) throws(HTTPError) {
        guard let adminToken, !adminToken.isEmpty else {
            throw HTTPError(status: 403, code: "admin_disabled", message: "instructor routes are off: start the server with --admin-token or STREAMSOCIAL_ADMIN_TOKEN")
        }
        // The scheme is case-insensitive (RFC 9110 §11.1), the token is not.
        guard let header = request.headers["authorization"], header.utf8.count > 7,
              header.prefix(7).lowercased() == "bearer ", Self.sameBytes(String(header.dropFirst(7)), adminToken)
        else {
            throw HTTPError(status: 401, code: "unauthorized", message: "instructor routes need Authorization: Bearer <token>", headers: [("www-authenticate", "Bearer")])
        }
    }

    /// Compares in time that depends on the lengths only, not on where the first
    /// difference is: the token guards a classroom's board on a shared network.
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Wraps an instructor route that answers at once.
    func admin(_ handler: @escaping @Sendable (HTTPRequest) throws(HTTPError) -> HTTPResponse) -> @Sendable (HTTPRequest) throws(HTTPError) -> HTTPResponse {
        { request throws(HTTPError) in
            try authorize(request)
            return try handler(request)
        }
    }

    /// Wraps an instructor route that answers later.
    func admin(_ handler: @escaping HTTPHandler) -> HTTPHandler {
        { request, responder in
            do throws(HTTPError) {
                try authorize(request)
                handler(request, responder)
            } catch {
                responder.respond(error)
            }
        }
    }

    /// `{"teams": N}`: stops the simulated class and starts N teams (0 stops it), in the
    /// background: 202 at once, `GET` shows the change until it is done.
    func resizeSimulator(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let fields = try Self.object(request.body)
        guard case .integer(let teams) = fields["teams"], (0...Int64(simulator.maximum)).contains(teams) else {
            throw HTTPError.badRequest("teams must be a whole number from 0 to \(simulator.maximum)", code: "invalid_field")
        }
        simulator.resize(to: Int(teams))
        logger.info("simulated teams resizing", metadata: ["teams": .stringConvertible(teams)])
        return .json(simulator.status(), status: 202)
    }

    func generatorSettings(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        .json(generator.settings)
    }

    /// `{"rate": 20}` and/or `{"paused": true}`.
    func changeGenerator(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let fields = try Self.object(request.body)
        var rate: Double?
        switch fields["rate"] {
        case .integer(let value): rate = Double(value)
        case .number(let value): rate = value
        case nil: break
        default: throw HTTPError.badRequest("rate must be a number", code: "invalid_field")
        }
        if let rate, !(0...10_000).contains(rate) {
            throw HTTPError.badRequest("rate must be 0 to 10000 users per second", code: "invalid_field")
        }
        var paused: Bool?
        switch fields["paused"] {
        case .bool(let value): paused = value
        case nil: break
        default: throw HTTPError.badRequest("paused must be true or false", code: "invalid_field")
        }
        let settings = generator.change(rate: rate, paused: paused)
        logger.info("generator changed", metadata: ["rate": .stringConvertible(settings.rate), "paused": .stringConvertible(settings.paused)])
        return .json(settings)
    }

    // MARK: Reading

    func timeline(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let userID = request.pathParameters["user_id"] ?? ""
        let limit = try Self.limit(request.query["limit"], default: 20, maximum: timelines.timelineCapacity)
        guard let user = timelines.user(userID) else {
            throw HTTPError(status: 404, code: "unknown_user", message: "no posts from \(userID) yet")
        }
        return .json(TimelineResponse(userID: userID, user: user, limit: limit, partitionCount: timelines.partitionCount))
    }

    func users(_ request: HTTPRequest) -> HTTPResponse {
        do throws(HTTPError) {
            let limit = try Self.limit(request.query["limit"], default: 100, maximum: 1000)
            let offset = try Self.limit(request.query["offset"], default: 0, maximum: Int.max, minimum: 0, name: "offset")
            let sort = request.query["sort"] ?? "posts"
            guard ["posts", "user", "violations"].contains(sort) else {
                throw HTTPError.badRequest("sort must be posts, user or violations", code: "invalid_field")
            }
            let rows = timelines.allUsers().map { UsersResponse.Row(userID: $0.key, user: $0.value) }
            let sorted: [UsersResponse.Row] = switch sort {
            case "user": rows.sorted { $0.userID < $1.userID }
            case "violations": rows.sorted { ($0.violations, $1.userID) > ($1.violations, $0.userID) }
            default: rows.sorted { ($0.postCount, $1.userID) > ($1.postCount, $0.userID) }
            }
            return .json(UsersResponse(total: rows.count, offset: offset, users: Array(sorted.dropFirst(offset).prefix(limit))))
        } catch {
            return error.response
        }
    }

    func metrics(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let seconds = try Self.limit(request.query["seconds"], default: 300, maximum: 300, name: "seconds")
        return .json(MetricsResponse(throughput: timelines.throughputReport(now: currentSecond(), seconds: seconds), lag: lag.report))
    }

    /// An instructor route's body: a flat JSON object, or 400.
    static func object(_ body: [UInt8]) throws(HTTPError) -> [String: FlatJSON.Value] {
        guard let fields = FlatJSON.parseObject(body) else {
            throw HTTPError.badRequest("the body must be a JSON object", code: "invalid_json")
        }
        return fields
    }

    /// A positive integer query parameter within bounds.
    static func limit(_ text: String?, default value: Int, maximum: Int, minimum: Int = 1, name: String = "limit") throws(HTTPError) -> Int {
        guard let text else { return value }
        guard let number = Int(text), number >= minimum, number <= maximum else {
            throw HTTPError.badRequest("\(name) must be an integer from \(minimum) to \(maximum)", code: "invalid_field")
        }
        return number
    }
}

/// Collects a batch's per-item outcomes; answers once all are in.
final class BatchResults: Sendable {
    enum Outcome: Sendable {
        case accepted(SendMessageResponse)
        case rejected(HTTPError)
    }

    private let state: Mutex<(results: [Outcome?], remaining: Int)>
    private let done: @Sendable ([Outcome]) -> Void

    init(count: Int, done: @escaping @Sendable ([Outcome]) -> Void) {
        state = Mutex((Array(repeating: nil, count: count), count))
        self.done = done
    }

    func set(_ index: Int, _ outcome: Outcome) {
        let finished: [Outcome]? = state.withLock { state in
            guard state.results[index] == nil else { return nil }
            state.results[index] = outcome
            state.remaining -= 1
            return state.remaining == 0 ? state.results.compactMap { $0 } : nil
        }
        if let finished { done(finished) }
    }
}
