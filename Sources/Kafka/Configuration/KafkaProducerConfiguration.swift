/// Producer settings. The fixed ones are not configurable on purpose: StreamSocial's
/// promise ("acknowledged only after Kafka acknowledged, in the partition a Java client
/// would pick") depends on them.
///
/// Fixed: `enable.idempotence=true`, `acks=all`, `partitioner=murmur2_random`, and
/// `sticky.partitioning.linger.ms=0` so that records without key each go to a random
/// partition rather than sticking to one for a while (the dashboard's "no key" lesson
/// depends on it).
public struct KafkaProducerConfiguration: Sendable, Equatable {
    /// Upper bound on every send: each ends in a delivery report or an error within it
    /// (`message.timeout.ms`). Default: 5 s.
    public var messageTimeout: Duration = .seconds(5)
    /// How long the producer waits to batch records (`linger.ms`). Default: 1 ms, the best
    /// measured latency/throughput trade-off for request/response load on this stack.
    public var linger: Duration = .milliseconds(1)
    /// Maximum records waiting in the local queue (`queue.buffering.max.messages`).
    /// Default: 100,000.
    public var maxQueuedMessages: Int = 100_000

    public init() {}

    var dictionary: [(String, String)] {
        [
            ("enable.idempotence", "true"),
            ("acks", "all"),
            ("partitioner", "murmur2_random"),
            ("sticky.partitioning.linger.ms", "0"),
            ("message.timeout.ms", String(messageTimeout.wholeMilliseconds)),
            ("linger.ms", Self.format(milliseconds: linger)),
            ("queue.buffering.max.messages", String(maxQueuedMessages)),
        ]
    }

    private static func format(milliseconds duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let ms = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return ms == ms.rounded() ? String(Int64(ms)) : String(ms)
    }
}
