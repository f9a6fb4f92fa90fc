internal import CRdKafka
import Logging

/// Routes librdkafka's own log lines to swift-log, in the one function that maps its
/// syslog levels (0 emergency … 7 debug).
enum RDKafkaLog {
    /// The `log_cb` of every client. Called from librdkafka's internal threads; reaches
    /// the client's ``RDKafkaClientContext`` through `rd_kafka_opaque`.
    static let callback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = { client, level, facility, text in
        guard let client, let text, let context = RDKafkaClientContext.of(client) else { return }
        context.logger.log(
            level: swiftLogLevel(syslog: level),
            "librdkafka",
            metadata: [
                "rdkafka.facility": .string(facility.map { String(cString: $0) } ?? ""),
                "rdkafka.message": .string(String(cString: text)),
            ]
        )
    }

    static func swiftLogLevel(syslog level: Int32) -> Logger.Level {
        switch level {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
    }
}
