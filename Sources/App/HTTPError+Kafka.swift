import HTTPServer
import Kafka

extension HTTPError {
    /// What a client is told when Kafka did not take its post. Every case means "not
    /// stored": nothing was acknowledged.
    static func kafka(_ error: KafkaError) -> HTTPError {
        switch error.code {
        case .queueFull:
            HTTPError(status: 503, code: "kafka_queue_full", message: "the producer queue is full; retry shortly", headers: [("retry-after", "1")])
        case .messageTooLarge:
            HTTPError(status: 413, code: "message_too_large", message: error.message)
        case .timedOut:
            HTTPError(status: 504, code: "kafka_timeout", message: "Kafka did not acknowledge in time: \(error.message)")
        case .brokerUnreachable:
            HTTPError(status: 503, code: "kafka_unavailable", message: error.message)
        case .unknownTopic:
            HTTPError(status: 503, code: "unknown_topic", message: error.message)
        case .shutdown:
            HTTPError(status: 503, code: "shutting_down", message: "the server is stopping")
        default:
            HTTPError(status: 503, code: "kafka_error", message: error.description)
        }
    }
}
