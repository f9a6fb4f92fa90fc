import ServerSupport
import FastJSON
import Dispatch
import Foundation
import HTTPServer
import Kafka
import KafkaGateway
import Leaderboard
import Logging
import Synchronization
import Timeline

/// What `/api/status` reports that does not change while running.
struct StatusContext: Sendable {
    var mode: StreamSocialApp.KafkaMode
    var bootstrapServers: String
    var startedAt: ContinuousClock.Instant
    /// In embedded mode, what the class connects through.
    var gateway: KafkaGateway?
    /// The librdkafka properties the server's clients use, secrets redacted.
    var kafkaProperties: [String: String] = [:]
    /// The start-up check of the topics on a real cluster, once it ran.
    var topicCheck = Latest<TopicCheck?>(nil)
}

/// The HTTP API: every route in one table (``router()``), each product's handlers beside
/// the product (`Timeline/Routes+Timeline.swift`, `Leaderboard/Routes+Leaderboard.swift`).
/// Handlers run on the HTTP service thread; anything that blocks (Kafka
/// metadata) or scans many users runs on a queue and answers later.
struct Routes: Sendable {
    let producer: KafkaProducer
    let admin: KafkaAdmin
    let adminQueue: DispatchQueue
    let timelines: TimelineService
    /// `/api/users`' kept rankings for large classes.
    let usersRanking: UsersRanking
    let lag: LagMonitor
    let kafkaHealth: KafkaHealth
    let leaderboard: LeaderboardService
    let generator: GeneratorControl
    let simulator: any ClassSimulator
    let faults: FaultControl
    /// `/api/admin/...` answers only with `Authorization: Bearer <token>`; nil disables them.
    let adminToken: String?
    /// The teams' Kafka passwords, given with `--team-credentials`.
    let teamCredentials: TeamCredentials?
    let hub: WebSocketHub
    /// Who is connected through the Kafka gateway; nil on a real cluster.
    let connectedClients: ConnectedClients?
    /// What `GET /metrics` serves.
    let metrics: ServerMetrics
    let status: StatusContext
    let logger: Logger
    /// Reports over every user (sorting, filtering) are built here.
    let reportQueue = DispatchQueue(label: "streamsocial.reports")

    static let maxBatch = 500

    func router() -> Router {
        var router = Router()
        router.reserve(prefix: "/api/")
        router.on(.get, "/healthz", respond: health)
        router.on(.get, "/readyz", respond: readiness)
        router.on(.get, "/api/status", respond: statusReport)
        router.on(.post, "/api/send-message", handler: sendMessage)
        router.on(.post, "/api/send-messages", maxBodySize: 1024 * 1024, handler: sendMessages)
        router.on(.get, "/api/timeline/{user_id}", respond: timeline)
        // Pages of the kept ranking, side by side (the ranking has its own lock).
        router.on(.get, "/api/users") { request, responder in DispatchQueue.global().async { responder.respond(users(request)) } }
        router.on(.get, "/api/partitions") { _, responder in
            reportQueue.async { responder.respond(.json(timelines.partitionReport(now: currentSecond()))) }
        }
        router.on(.get, "/api/ordering") { _, responder in reportQueue.async { responder.respond(.json(timelines.orderingReport())) } }
        router.on(.get, "/api/metrics", respond: metrics)
        router.on(.get, "/metrics") { _ throws(HTTPError) in
            HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.render())
        }
        router.on(.get, "/api/clients", respond: connectedClientsReport)
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
        router.on(.get, "/api/admin/credentials", respond: admin { _ throws(HTTPError) in
            // Passwords: never kept by a browser's or a proxy's cache.
            var response = HTTPResponse.json(CredentialsReport(configured: teamCredentials != nil, teams: teamCredentials?.entries ?? []))
            response.headers.append(("cache-control", "no-store"))
            return response
        })
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

    /// Readiness, apart from liveness (`/healthz`): 200 only when a POST is taken and the
    /// board is loaded, so an orchestrator, a script or the README's curl waits on it
    /// instead of meeting `503 recovering`. Answered at once, from the last checks.
    func readiness(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        if let reason = kafkaHealth.check.unavailableReason() {
            throw HTTPError(status: 503, code: "kafka_unavailable", message: reason, headers: [("retry-after", "1")])
        }
        let waiting: String? = switch timelines.readiness {
        case .ready: nil
        case .waitingForKafka(let reason): "the timeline consumer waits for Kafka: \(reason)"
        case .joiningGroup: "the timeline consumer is joining its group and starting to read each partition"
        case .replaying(let remaining): "rebuilding timelines from Kafka: \(remaining) records to go"
        }
        if let reason = waiting ?? leaderboard.loadingReason {
            throw HTTPError(status: 503, code: "not_ready", message: reason, headers: [("retry-after", "1")])
        }
        return .json(ReadinessReport(status: "ready"))
    }

    /// Answered at once: the cluster as last checked, the feed, the timelines' state.
    func statusReport(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        var kafka = StatusReport.Kafka(
            mode: status.mode.rawValue, bootstrapServers: status.bootstrapServers, reachable: false, error: nil, brokers: [], topics: [],
            durable: status.mode == .external,
            note: status.mode == .embedded ? "embedded Kafka: in memory, lost on restart" : nil
        )
        kafka.properties = status.kafkaProperties
        kafka.topicCheck = status.topicCheck.current
        // One read of the check: reachability, brokers and topics from the same look.
        let check = kafkaHealth.check
        if let reason = check.unavailableReason() {
            kafka.error = reason
        } else {
            kafka.reachable = true
        }
        if let metadata = check.metadata {
            kafka.brokers = metadata.brokers.map { broker in
                // Embedded: each broker as the class reaches it, through the gateway.
                let address = status.gateway?.advertisedAddress(ofUpstreamPort: Int(broker.port))
                return StatusReport.Broker(id: broker.id, host: address?.host ?? broker.host, port: address.map { Int32($0.port) } ?? broker.port)
            }
            kafka.topics = metadata.topics.filter { !$0.name.hasPrefix("__") }.map { StatusReport.Topic(name: $0.name, partitions: $0.partitionCount) }
        }
        let snapshot = timelines.messagesSnapshot()
        let uptime = ContinuousClock.now - status.startedAt
        return .json(StatusReport(
            version: StreamSocialVersion.current,
            uptimeSeconds: uptime.inSeconds,
            kafka: kafka,
            gateway: status.gateway.map(StatusReport.Gateway.init),
            websocketClients: hub.clientCount,
            websocketDroppedFrames: hub.droppedFrames,
            feed: .init(consumed: snapshot.consumed, malformed: snapshot.malformed),
            timelines: .init(readiness: timelines.readiness)
        ))
    }

    // MARK: Instructor routes

    /// Lets instructor routes through: 401 without the right bearer token, 403 when no
    /// token is configured (the routes are off).
    func authorize(_ request: HTTPRequest) throws(HTTPError) {
        guard let adminToken, !adminToken.isEmpty else {
            throw HTTPError(status: 403, code: "admin_disabled", message: "instructor routes are off: start the server with --admin-token or STREAMSOCIAL_ADMIN_TOKEN")
        }
        // The scheme is case-insensitive (RFC 9110 §11.1), the token is not.
        guard let header = request.headers.authorization, header.utf8.count > 7,
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
