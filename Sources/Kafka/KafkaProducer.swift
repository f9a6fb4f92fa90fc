import ServerSupport
internal import CRdKafka
import Foundation
public import Logging
public import CoreMetrics
import Synchronization

/// An idempotent, `acks=all` producer whose every send ends in a real outcome: a
/// ``KafkaDeliveryReport`` from the broker or a ``KafkaError`` within
/// ``KafkaProducerConfiguration/messageTimeout``.
///
/// Delivery reports arrive as events on librdkafka's main queue, polled by a thread of
/// the producer's own. Each record carries its send id as the per-message opaque, so no
/// Swift object crosses into C. The completion is registered *before* the record is
/// handed to librdkafka, because the report can arrive before `rd_kafka_produce` returns.
///
/// - Important: call ``close(flushTimeout:)`` when done: the polling thread keeps the
///   producer alive until then.
public final class KafkaProducer: Sendable {
    /// Called exactly once per send, on the producer's polling thread, or on the calling
    /// thread when the send fails at once (queue full, unknown configuration, closed).
    public typealias Completion = @Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void

    private let client: RDKafkaClient
    private let mainQueue: SendableHandle
    private let state = Mutex(StateMachine())
    private let logger: Logger
    private let bootstrapServers: String
    private let metrics: KafkaProducerMetrics?

    /// Creates the producer and starts its polling thread.
    /// - Parameter metrics: where acknowledgements and errors per topic are counted
    ///   (`kafka_produce_acks_total`, `kafka_produce_errors_total`); nil counts nothing.
    /// - Throws: ``KafkaError/Code/configuration`` when librdkafka rejects a property.
    public init(
        configuration: KafkaConfiguration, producer: KafkaProducerConfiguration = .init(), logger: Logger,
        metrics: (any MetricsFactory)? = nil
    ) throws(KafkaError) {
        let settings = configuration.dictionary + producer.dictionary + configuration.passThrough
        let client = try RDKafkaClient(type: RD_KAFKA_PRODUCER, settings: settings, context: RDKafkaClientContext(logger: logger)) { conf in
            rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR)
        }
        guard let made = try? client.use({ rd_kafka_queue_get_main($0) }), let mainQueue = made else {
            throw KafkaError(.other, "librdkafka gave the producer no main queue")
        }
        self.client = client
        self.mainQueue = SendableHandle(mainQueue)
        self.logger = logger
        self.bootstrapServers = configuration.bootstrapServers
        self.metrics = metrics.map(KafkaProducerMetrics.init)
        let thread = Worker(name: "kafka-producer") { [self] _ in pollOnce(timeoutMilliseconds: 100) }
        state.withLock { $0.poller = thread }
    }

    /// Number of records handed to librdkafka and not yet reported.
    public var inFlight: Int { state.withLock { $0.inFlight } }

    /// Whether librdkafka last said that every broker is down.
    public var brokersDown: Bool { state.withLock { $0.brokersDown } }

    /// Produces one record; `completion` receives where it was stored or why it was not.
    ///
    /// Never blocks: a full local queue fails at once with ``KafkaError/Code/queueFull``.
    /// - Parameters:
    ///   - partition: a fixed partition, or `nil` to let the murmur2 partitioner place
    ///     the key (a record without key goes to a random partition).
    public func send(topic: String, key: [UInt8]?, value: [UInt8], partition: Int32? = nil, completion: @escaping Completion) {
        let completion: Completion = if let metrics {
            { result in
                metrics.record(topic: topic, result)
                completion(result)
            }
        } else {
            completion
        }
        let id: UInt
        switch state.withLock({ $0.send(topic: topic, completion: completion) }) {
        case .fail(let error):
            completion(.failure(error))
            return
        case .produce(let registered):
            id = registered
        }
        let outcome = try? client.use { handle throws(KafkaError) -> KafkaError? in
            guard let topicHandle = client.topic(topic) else {
                return KafkaError(.invalidTopic, "librdkafka refused the topic name")
            }
            let result = value.withUnsafeBytes { valueBytes in
                withOptionalBytes(key) { keyBytes in
                    rd_kafka_produce(
                        topicHandle, partition ?? RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                        UnsafeMutableRawPointer(mutating: valueBytes.baseAddress), valueBytes.count,
                        keyBytes?.baseAddress, keyBytes?.count ?? 0, UnsafeMutableRawPointer(bitPattern: id)
                    )
                }
            }
            return result == 0 ? nil : KafkaError.rdKafka(rd_kafka_last_error(), context: "produce to \(topic)")
        }
        // nil: closed between registration and produce; close() fails the registered send.
        guard let outcome, let error = outcome else { return }
        if let completion = state.withLock({ $0.produceFailed(id: id) }) {
            completion(.failure(error))
        }
    }

    /// Produces one record and waits for the broker's acknowledgement.
    ///
    /// The wait is bounded by ``KafkaProducerConfiguration/messageTimeout``; cancelling
    /// the task does not recall a record already handed to librdkafka.
    public func send(topic: String, key: [UInt8]?, value: [UInt8], partition: Int32? = nil) async throws(KafkaError) -> KafkaDeliveryReport {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<KafkaDeliveryReport, KafkaError>, Never>) in
            send(topic: topic, key: key, value: value, partition: partition) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Waits until every record handed over so far has a delivery report or `timeout`
    /// passed. Blocking: call it from a thread you own, never the cooperative pool.
    /// - Throws: ``KafkaError/Code/timedOut`` when records are still in flight.
    public func flush(timeout: Duration) throws(KafkaError) {
        let err = try client.use { handle throws(KafkaError) in rd_kafka_flush(handle, Int32(clamping: timeout.wholeMilliseconds)) }
        guard let err else { throw KafkaError(.shutdown, "the producer is closed") }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw .rdKafka(err, context: "flush") }
    }

    /// Flushes for up to `flushTimeout`, stops the polling thread, fails every send still
    /// pending with ``KafkaError/Code/shutdown`` and destroys the client. Idempotent.
    /// Blocking: call it from a thread you own.
    public func close(flushTimeout: Duration = .seconds(5)) {
        state.withLock { $0.markClosed() }
        client.close { handle in
            if flushTimeout > .zero {
                _ = rd_kafka_flush(handle, Int32(clamping: flushTimeout.wholeMilliseconds))
            }
            state.withLock { $0.poller }?.stop()
            // Reports that arrived after the thread stopped still resolve their sends.
            while pollOnce(timeoutMilliseconds: 0) {}
            for completion in state.withLock({ $0.drain() }) {
                completion(.failure(KafkaError(.shutdown, "the producer closed before the broker acknowledged")))
            }
            rd_kafka_queue_destroy(mainQueue.pointer)
        }
    }

    /// Serves one event from the main queue. Returns whether there was one.
    /// Called on the polling thread (and once more from ``close(flushTimeout:)``).
    @discardableResult
    private func pollOnce(timeoutMilliseconds: Int32) -> Bool {
        guard let event = rd_kafka_queue_poll(mainQueue.pointer, timeoutMilliseconds) else { return false }
        defer { rd_kafka_event_destroy(event) }
        switch rd_kafka_event_type(event) {
        case RD_KAFKA_EVENT_DR:
            deliver(event)
        case RD_KAFKA_EVENT_ERROR:
            handleError(event)
        default:
            break
        }
        return true
    }

    private func deliver(_ event: OpaquePointer) {
        var outcomes: [(id: UInt, result: Result<KafkaDeliveryReport, KafkaError>)] = []
        outcomes.reserveCapacity(Int(rd_kafka_event_message_count(event)))
        // An event's reports mostly share one topic: its name is read once per run.
        var lastTopic: (handle: OpaquePointer?, name: String) = (nil, "")
        while let message = rd_kafka_event_message_next(event) {
            let id = UInt(bitPattern: message.pointee._private)
            let err = message.pointee.err
            if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                if lastTopic.handle != message.pointee.rkt {
                    lastTopic = (message.pointee.rkt, String(cString: rd_kafka_topic_name(message.pointee.rkt)))
                }
                let topic = lastTopic.name
                var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
                let timestamp = rd_kafka_message_timestamp(message, &type)
                outcomes.append((id, .success(KafkaDeliveryReport(
                    topic: topic, partition: message.pointee.partition, offset: message.pointee.offset,
                    timestampMilliseconds: type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
                ))))
            } else {
                outcomes.append((id, .failure(.rdKafka(err))))
            }
        }
        let completions = state.withLock { $0.delivered(outcomes, bootstrapServers: bootstrapServers) }
        for (completion, result) in completions { completion(result) }
    }

    private func handleError(_ event: OpaquePointer) {
        let err = rd_kafka_event_error(event)
        let reason = String(cString: rd_kafka_event_error_string(event))
        if err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN {
            state.withLock { $0.allBrokersDown() }
        }
        let fatal = rd_kafka_event_error_is_fatal(event) != 0
        logger.log(level: fatal ? .critical : .warning, "Kafka producer error", metadata: [
            "kafka.error": .string(reason), "kafka.fatal": .stringConvertible(fatal),
        ])
    }
}

/// Lends `bytes` as a raw buffer, or `nil` when there are none (a record without key).
func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}
