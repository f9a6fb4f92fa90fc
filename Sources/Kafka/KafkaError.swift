/// An error from the Kafka layer, with a stable ``Code`` callers can switch on and
/// librdkafka's own message for people.
///
/// `Code` is a struct of static values rather than an enum so that new codes do not
/// break callers (the swift-kafka-client convention).
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String

        /// The producer's local queue is full (`queue.buffering.max.messages`): back off.
        public static let queueFull = Code(name: "queue_full")
        /// The record is larger than `message.max.bytes` or the broker's limit.
        public static let messageTooLarge = Code(name: "message_too_large")
        /// The topic or partition does not exist on the cluster.
        public static let unknownTopic = Code(name: "unknown_topic")
        /// The topic name is not one Kafka accepts (empty, over 249 characters for a
        /// broker, over 512 bytes for librdkafka, or characters outside `[A-Za-z0-9._-]`).
        public static let invalidTopic = Code(name: "invalid_topic")
        /// The operation did not complete within its timeout (for a send:
        /// `message.timeout.ms`).
        public static let timedOut = Code(name: "timed_out")
        /// No broker could be reached.
        public static let brokerUnreachable = Code(name: "broker_unreachable")
        /// A configuration property was rejected by librdkafka.
        public static let configuration = Code(name: "configuration")
        /// The broker does not support the request (an old broker, or the embedded
        /// cluster, which cannot list or describe groups).
        public static let unsupported = Code(name: "unsupported")
        /// The client was shut down before the operation completed.
        public static let shutdown = Code(name: "shutdown")
        /// Any other librdkafka error; ``KafkaError/rdKafkaCode`` has the details.
        public static let other = Code(name: "other")

        public var description: String { name }
    }

    public var code: Code
    /// Human-readable detail, usually librdkafka's `rd_kafka_err2str`.
    public var message: String
    /// The raw `rd_kafka_resp_err_t` value, when the error came from librdkafka.
    public var rdKafkaCode: Int32?

    public init(_ code: Code, _ message: String, rdKafkaCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.rdKafkaCode = rdKafkaCode
    }

    public var description: String { "\(code): \(message)" }

    /// Whether retrying the same operation later can succeed.
    public var isRetriable: Bool {
        switch code {
        case .queueFull, .timedOut, .brokerUnreachable: true
        default: false
        }
    }
}
