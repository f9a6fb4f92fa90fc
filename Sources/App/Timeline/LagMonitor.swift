import ServerSupport
import Kafka
import Synchronization

/// Every second: the partitions' watermarks, how far the timeline consumer has read,
/// hence the lag per partition, and the offsets its group committed.
final class LagMonitor: Sendable {
    private let admin: KafkaAdmin
    private let topic: String
    let group: String
    private let partitionCount: Int
    /// Next offset the server will read per partition.
    private let consumed: @Sendable () -> [Int32: Int64]
    private let latest: Mutex<LagReport>
    /// The topic's partition count on the cluster, once read (it may differ from the
    /// configured one: the topic check says so, the lag still covers what is there).
    private let clusterPartitions = Mutex<Int?>(nil)

    init(admin: KafkaAdmin, topic: String, group: String, partitionCount: Int, consumed: @escaping @Sendable () -> [Int32: Int64]) {
        self.admin = admin
        self.topic = topic
        self.group = group
        self.partitionCount = partitionCount
        self.consumed = consumed
        latest = Mutex(LagReport(group: group, partitions: [], totalLag: 0, measuredAt: nil, error: "not measured yet"))
    }

    var report: LagReport { latest.withLock { $0 } }

    /// One second's watermarks, and how far the server had read just before they were
    /// asked for (see ``TimelineService/forgetPositionsPastEnd(_:readBefore:)``).
    struct Measurement: Sendable {
        var watermarks: [Int32: (low: Int64, high: Int64)] = [:]
        var readBefore: [Int32: Int64] = [:]
    }

    /// Measures now (blocking, up to a few seconds when Kafka is away); returns the
    /// watermarks (for the partition analyzer) with the positions read before them.
    ///
    /// Lag counts from what the server has read, not from the committed offsets: a
    /// commit can be refused (someone else's consumer in the group) or a second late,
    /// and neither changes what the dashboard has shown. The positions are taken before
    /// the watermarks, so a position is never past its high watermark on a log that
    /// only grew, and the lag errs long by what arrived during the query, never short.
    @discardableResult
    func measure() -> Measurement {
        var measurement = Measurement(readBefore: consumed())
        do throws(KafkaError) {
            let count: Int
            if let known = clusterPartitions.withLock({ $0 }) {
                count = known
            } else {
                count = try admin.metadata(timeout: .seconds(1)).partitionCount(of: topic) ?? partitionCount
                clusterPartitions.withLock { $0 = count }
            }
            let watermarks = try admin.watermarks(topic: topic, partitionCount: count, timeout: .seconds(1))
            measurement.watermarks = watermarks
            let partitions = (0..<Int32(count)).map { KafkaTopicPartition(topic: topic, partition: $0) }
            let committed = (try? admin.committedOffsets(group: group, partitions: partitions, timeout: .seconds(1))) ?? [:]
            let positions = measurement.readBefore
            var rows: [LagReport.Partition] = []
            for partition in partitions {
                guard let marks = watermarks[partition.partition] else { continue }
                let position = max(positions[partition.partition] ?? marks.low, marks.low)
                rows.append(.init(
                    partition: partition.partition, highWatermark: marks.high, consumed: position,
                    committed: committed[partition], lag: max(0, marks.high - position)
                ))
            }
            let report = LagReport(group: group, partitions: rows, totalLag: rows.reduce(0) { $0 + $1.lag }, measuredAt: currentMilliseconds(), error: nil)
            latest.withLock { $0 = report }
        } catch {
            latest.withLock { $0.error = error.description }
        }
        return measurement
    }
}
