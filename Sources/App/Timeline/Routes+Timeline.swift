import ServerSupport
import FastJSON
import Foundation
import HTTPServer
import Kafka
import Leaderboard
import Logging
import Timeline

/// The timeline API: posting (answered once Kafka acknowledged) and reading.
extension Routes {
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
        let sent = ContinuousClock.now
        producer.send(topic: timelines.topic, key: post.keyStrategy.key(for: post.userID), value: record.encoded()) { result in
            switch result {
            case .success(let report):
                metrics.postStage(.ack, ContinuousClock.now - sent)
                timelines.sendSucceeded(at: timestamp / 1000, partition: report.partition, offset: report.offset)
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
            guard let order = UsersRanking.Order(rawValue: request.query["sort"] ?? "posts") else {
                throw HTTPError.badRequest("sort must be posts, user or violations", code: "invalid_field")
            }
            let (total, page) = usersRanking.page(order: order, offset: offset, limit: limit)
            return HTTPResponse(status: 200, body: UsersResponse(total: total, offset: offset, users: page.map { UsersResponse.Row(userID: $0.key, user: $0.value) }).json)
        } catch {
            return error.response
        }
    }

    func metrics(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let seconds = try Self.limit(request.query["seconds"], default: 300, maximum: 300, name: "seconds")
        return .json(MetricsResponse(throughput: timelines.throughputReport(now: currentSecond(), seconds: seconds), lag: lag.report))
    }
}
