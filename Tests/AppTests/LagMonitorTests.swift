@testable import App
import Kafka
import Testing

@Suite("LagMonitor: lag and watermarks on the embedded cluster")
struct LagMonitorTests {
    /// Under load the server warned every second that a partition "ends before where it
    /// was read", and dropped its re-read guard: the monitor asked for the watermarks
    /// first and read the consumer's position after, by which time the consumer had read
    /// past them. Here the "consumer" reads everything there is, and the topic grows by
    /// three records every time its position is asked for.
    @Test("positions are taken before the watermarks: a growing log is never behind them")
    func positionsBeforeWatermarks() throws {
        let cluster = try EmbeddedKafka(topics: [KafkaTopicSpec("user-timeline", partitions: 1)], logger: quietLogger)
        defer { cluster.stop() }
        let admin = try KafkaAdmin(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        defer { admin.close() }
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        defer { producer.close() }
        let monitor = LagMonitor(admin: admin, topic: "user-timeline", group: "lag-test", partitionCount: 1) {
            for n in 0..<3 {
                producer.send(topic: "user-timeline", key: Array("k".utf8), value: Array("\(n)".utf8)) { _ in }
            }
            try? producer.flush(timeout: .seconds(5))
            let end = (try? admin.watermarks(topic: "user-timeline", partition: 0))?.high ?? -1
            return [0: end]
        }
        for _ in 0..<3 {
            let measured = monitor.measure()
            let high = try #require(measured.watermarks[0]?.high)
            let read = try #require(measured.readBefore[0])
            #expect(read > 0)
            #expect(read <= high, "position \(read) past the high watermark \(high) of a log that only grew")
            let row = try #require(monitor.report.partitions.first)
            #expect(row.consumed == read)
            #expect(row.lag == high - read)
        }
    }
}
