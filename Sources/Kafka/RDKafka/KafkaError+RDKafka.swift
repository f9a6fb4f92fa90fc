internal import CRdKafka

extension KafkaError {
    /// Maps a librdkafka error code to a ``KafkaError`` in the one place that knows the C
    /// codes, so callers never import C.
    static func rdKafka(_ err: rd_kafka_resp_err_t, context: String? = nil) -> KafkaError {
        let text = String(cString: rd_kafka_err2str(err))
        let message = context.map { "\($0): \(text)" } ?? text
        return KafkaError(code(for: err), message, rdKafkaCode: err.rawValue)
    }

    static func code(for err: rd_kafka_resp_err_t) -> Code {
        switch err {
        case RD_KAFKA_RESP_ERR__QUEUE_FULL:
            .queueFull
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
            .messageTooLarge
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
            .unknownTopic
        case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
            .invalidTopic
        case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
            .timedOut
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__RESOLVE:
            .brokerUnreachable
        case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE, RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
            .unsupported
        case RD_KAFKA_RESP_ERR__DESTROY:
            .shutdown
        default:
            .other
        }
    }
}
