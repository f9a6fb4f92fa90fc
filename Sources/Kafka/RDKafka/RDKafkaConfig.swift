internal import CRdKafka

/// Builds librdkafka clients from key/value settings, failing on the first key
/// librdkafka rejects, with that key and librdkafka's reason in the error.
enum RDKafkaConfig {
    /// Creates a client of `type`. Every client logs through swift-log via `context`.
    /// - Parameter configure: last changes to the `rd_kafka_conf_t` (callbacks, events).
    /// - Throws: ``KafkaError/Code/configuration`` naming the rejected key.
    static func makeClient(
        type: rd_kafka_type_t,
        settings: [(String, String)],
        context: RDKafkaClientContext,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(.other, "rd_kafka_conf_new failed")
        }
        var errorBuffer = [CChar](repeating: 0, count: 512)
        for (key, value) in settings {
            if rd_kafka_conf_set(conf, key, value, &errorBuffer, errorBuffer.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(.configuration, "Kafka property \(key): \(String(errorBuffer: errorBuffer))")
            }
        }
        rd_kafka_conf_set_opaque(conf, context.opaque)
        rd_kafka_conf_set_log_cb(conf, RDKafkaLog.callback)
        configure(conf)
        guard let handle = rd_kafka_new(type, conf, &errorBuffer, errorBuffer.count) else {
            // rd_kafka_new takes ownership of conf only on success.
            rd_kafka_conf_destroy(conf)
            throw KafkaError(.configuration, String(errorBuffer: errorBuffer))
        }
        return handle
    }
}
