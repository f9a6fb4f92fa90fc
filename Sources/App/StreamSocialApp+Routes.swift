import Dispatch
import Foundation
import HTTPServer
import Kafka
import Logging

/// What `/api/status` reports that does not change while running.
struct StatusContext: Sendable {
    var mode: StreamSocialApp.KafkaMode
    var bootstrapServers: String
    var startedAt: ContinuousClock.Instant
}

/// The body of a healthy `GET /healthz`.
struct HealthReport: Encodable, Sendable {
    var status: String
    var brokers: Int
}

/// The body of a successful `POST /api/send-message`.
struct SendMessageResponse: Encodable, Sendable {
    var userID: String
    var partition: Int32
    var offset: Int64
    var timestamp: Int64

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case partition, offset, timestamp
    }
}

extension StreamSocialApp {
    static func makeRouter(
        producer: KafkaProducer, admin: KafkaAdmin, adminQueue: DispatchQueue, feed: LiveFeed, hub: WebSocketHub,
        status: StatusContext, logger: Logger
    ) -> Router {
        var router = Router()

        // 200 when Kafka answers a metadata request, 503 with the reason otherwise.
        router.on(.get, "/healthz") { _, responder in
            adminQueue.async {
                do throws(KafkaError) {
                    let metadata = try admin.metadata(timeout: .seconds(2))
                    responder.respond(.json(HealthReport(status: "ok", brokers: metadata.brokers.count)))
                } catch {
                    responder.respond(HTTPError(status: 503, code: "kafka_unavailable", message: "Kafka metadata did not answer: \(error.message)"))
                }
            }
        }

        router.on(.get, "/api/status") { _, responder in
            adminQueue.async {
                var kafka = StatusReport.Kafka(
                    mode: status.mode.rawValue, bootstrapServers: status.bootstrapServers, reachable: false, error: nil, brokers: [], topics: []
                )
                do throws(KafkaError) {
                    let metadata = try admin.metadata(timeout: .seconds(2))
                    kafka.reachable = true
                    kafka.brokers = metadata.brokers.map { StatusReport.Broker(id: $0.id, host: $0.host, port: $0.port) }
                    kafka.topics = metadata.topics.filter { !$0.name.hasPrefix("__") }.map { StatusReport.Topic(name: $0.name, partitions: $0.partitionCount) }
                } catch {
                    kafka.error = error.message
                }
                let snapshot = feed.snapshot
                let uptime = ContinuousClock.now - status.startedAt
                responder.respond(.json(StatusReport(
                    version: StreamSocialVersion.current,
                    uptimeSeconds: Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18,
                    kafka: kafka,
                    websocketClients: hub.clientCount,
                    feed: .init(consumed: snapshot.consumed, malformed: snapshot.malformed)
                )))
            }
        }

        // Produces the post keyed by user_id; answers 201 only once the broker acknowledged.
        router.on(.post, "/api/send-message") { request, responder in
            let post: PostMessage
            do throws(FieldError) {
                post = try PostMessage.parse(request.body)
            } catch {
                responder.respond(HTTPError.badRequest(error.message, code: error.code))
                return
            }
            let record = TimelineRecord(userID: post.userID, content: post.content, timestamp: Int64(Date().timeIntervalSince1970 * 1000))
            producer.send(topic: Topics.userTimeline.name, key: Array(post.userID.utf8), value: record.encoded()) { result in
                switch result {
                case .success(let report):
                    responder.respond(.json(SendMessageResponse(
                        userID: post.userID, partition: report.partition, offset: report.offset, timestamp: record.timestamp
                    ), status: 201))
                case .failure(let error):
                    logger.warning("send failed", metadata: ["kafka.error": .string(error.description), "user_id": .string(post.userID)])
                    responder.respond(HTTPError.kafka(error))
                }
            }
        }
        return router
    }
}
