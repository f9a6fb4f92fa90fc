import Dispatch
import Foundation
import Kafka
import KafkaGateway
import Logging
import ServerSupport
import Synchronization

/// What the Kafka gateway costs a client: the same librdkafka producer (idempotent,
/// `acks=all`) sends the same records to a fresh embedded cluster straight to its brokers
/// and through a gateway in front of them, alternating, in one run. Everything goes over
/// loopback TCP.
///
/// Throughput is a burst (at most `window` records in flight); latency is one record at
/// a time (send, wait for the acknowledgement, next), so it measures the path and not the
/// burst's queue.
public enum GatewayBenchmark {
    public struct Run: Encodable, Sendable {
        public var records: Int
        public var seconds: Double
        public var recordsPerSecond: Double
        /// Send to acknowledgement of one record at a time, in milliseconds.
        public var p50Ms: Double
        public var p99Ms: Double
        public var maxMs: Double

        enum CodingKeys: String, CodingKey {
            case records, seconds
            case recordsPerSecond = "records_per_second"
            case p50Ms = "p50_ms"
            case p99Ms = "p99_ms"
            case maxMs = "max_ms"
        }
    }

    public struct Result: Encodable, Sendable {
        /// Each round's runs, in the order they ran.
        public var direct: [Run]
        public var gateway: [Run]
        /// Median records/s through the gateway over median straight to the brokers.
        public var throughputRatio: Double
        /// Median p99 through the gateway minus median p99 straight to the brokers (ms).
        public var p99AddedMs: Double

        enum CodingKeys: String, CodingKey {
            case direct, gateway
            case throughputRatio = "throughput_ratio"
            case p99AddedMs = "p99_added_ms"
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `rounds` rounds of `records` records of `valueBytes` bytes each way, keyed by 100
    /// users, at most `window` in flight.
    public static func run(records: Int, valueBytes: Int = 200, rounds: Int = 3, window: Int = 10_000, sequential: Int = 2_000) throws -> Result {
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let cluster: EmbeddedKafka
        do {
            cluster = try EmbeddedKafka(brokers: 3, topics: [KafkaTopicSpec("bench", partitions: 6)], logger: logger)
        } catch {
            throw Failure(description: "embedded cluster: \(error)")
        }
        defer { cluster.stop() }
        var settings = KafkaGateway.Configuration()
        settings.listenHost = "127.0.0.1"
        settings.listenPort = 0
        settings.advertisedHost = "127.0.0.1"
        let gateway = KafkaGateway(configuration: settings, upstreams: KafkaGateway.Upstream.list(cluster.bootstrapServers), logger: logger)
        do {
            try gateway.start()
        } catch {
            throw Failure(description: "gateway: \(error)")
        }
        defer { gateway.stop() }
        var result = Result(direct: [], gateway: [], throughputRatio: 0, p99AddedMs: 0)
        for _ in 0..<max(1, rounds) {
            result.direct.append(try produce(to: cluster.bootstrapServers, records: records, valueBytes: valueBytes, window: window, sequential: sequential, logger: logger))
            result.gateway.append(try produce(to: gateway.bootstrapAddress, records: records, valueBytes: valueBytes, window: window, sequential: sequential, logger: logger))
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        result.throughputRatio = median(result.gateway.map(\.recordsPerSecond)) / max(1e-9, median(result.direct.map(\.recordsPerSecond)))
        result.p99AddedMs = median(result.gateway.map(\.p99Ms)) - median(result.direct.map(\.p99Ms))
        return result
    }

    private static func produce(to bootstrap: String, records: Int, valueBytes: Int, window: Int, sequential: Int, logger: Logger) throws -> Run {
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientID: "gateway-bench"), logger: logger)
        } catch {
            throw Failure(description: "producer: \(error)")
        }
        defer { producer.close() }
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: max(1, valueBytes))
        let clock = ContinuousClock()
        // Warm up (metadata, connections, the producer id), then one record at a time.
        _ = try burst(producer, records: 100, value: value, window: window, bootstrap: bootstrap)
        var latencies: [Duration] = []
        latencies.reserveCapacity(sequential)
        for index in 0..<max(1, sequential) {
            let done = DispatchSemaphore(value: 0)
            let failed = Atomic<Bool>(false)
            let sent = clock.now
            producer.send(topic: "bench", key: Array("user-\(index % 100)".utf8), value: value) { outcome in
                if case .failure = outcome { failed.store(true, ordering: .relaxed) }
                done.signal()
            }
            guard done.wait(timeout: .now() + 10) == .success, !failed.load(ordering: .relaxed) else {
                throw Failure(description: "a record was not acknowledged through \(bootstrap)")
            }
            latencies.append(clock.now - sent)
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))].inMilliseconds }
        let elapsed = try burst(producer, records: records, value: value, window: window, bootstrap: bootstrap)
        return Run(
            records: records, seconds: elapsed.inSeconds, recordsPerSecond: Double(records) / max(1e-9, elapsed.inSeconds),
            p50Ms: percentile(0.5), p99Ms: percentile(0.99), maxMs: latencies.last?.inMilliseconds ?? 0
        )
    }

    /// Sends `records` records, at most `window` in flight; the time until the last was
    /// acknowledged.
    private static func burst(_ producer: KafkaProducer, records: Int, value: [UInt8], window: Int, bootstrap: String) throws -> Duration {
        let clock = ContinuousClock()
        let acknowledged = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        let start = clock.now
        for index in 0..<records {
            while producer.inFlight >= window { usleep(100) }
            producer.send(topic: "bench", key: Array("user-\(index % 100)".utf8), value: value) { outcome in
                if case .failure = outcome { failures.add(1, ordering: .relaxed) }
                acknowledged.add(1, ordering: .relaxed)
            }
        }
        let deadline = clock.now + .seconds(120)
        while acknowledged.load(ordering: .relaxed) < records, clock.now < deadline { usleep(200) }
        let elapsed = clock.now - start
        guard acknowledged.load(ordering: .relaxed) == records, failures.load(ordering: .relaxed) == 0 else {
            throw Failure(description: "\(acknowledged.load(ordering: .relaxed)) of \(records) answered, \(failures.load(ordering: .relaxed)) failed, through \(bootstrap)")
        }
        return elapsed
    }
}
