/// Per-partition statistics of `user-timeline` and what they mean for key choice.
///
/// Fed with each consumed record (key, size, partition) and, separately, the partitions'
/// watermarks. A plain value; the app keeps it behind a lock.
public struct PartitionAnalyzer: Sendable {
    public struct Partition: Sendable {
        public var messages = 0
        public var bytes = 0
        /// Messages per key (records without key under ""), at most
        /// ``PartitionAnalyzer/maxDistinctKeys`` keys.
        public var keys: [String: Int] = [:]
        /// Messages whose key was new once ``keys`` was full.
        public var otherKeyMessages = 0
        public var rate = RateWindows(length: 60)
    }

    public struct Thresholds: Sendable {
        /// A partition is hot above this multiple of the mean share. Default: 1.5.
        public var hotFactor = 1.5
        /// … and with at least this many messages. Default: 20.
        public var hotMinimum = 20
        /// Dominant keys listed per partition. Default: 3.
        public var topKeys = 3

        public init() {}
    }

    public let partitionCount: Int
    public var thresholds: Thresholds
    public private(set) var partitions: [Partition]
    /// Watermarks per partition, from the broker (low, high).
    public private(set) var watermarks: [(low: Int64, high: Int64)?]

    public init(partitionCount: Int, thresholds: Thresholds = .init()) {
        self.partitionCount = max(1, partitionCount)
        self.thresholds = thresholds
        partitions = Array(repeating: Partition(), count: self.partitionCount)
        watermarks = Array(repeating: nil, count: self.partitionCount)
    }

    /// Longest key kept, in UTF-8 bytes; longer ones are cut and marked with "…".
    public static let maxKeyBytes = 256
    /// Distinct keys counted per partition; messages with further new keys are counted
    /// in ``Partition/otherKeyMessages``. Keys come from anyone with a Kafka client.
    public static let maxDistinctKeys = 10_000

    public mutating func record(partition: Int32, key: String?, bytes: Int, second: Int64) {
        let index = Int(partition)
        guard index >= 0, index < partitionCount else { return }
        partitions[index].messages += 1
        partitions[index].bytes += bytes
        let name = Self.bounded(key ?? "")
        if partitions[index].keys[name] != nil || partitions[index].keys.count < Self.maxDistinctKeys {
            partitions[index].keys[name, default: 0] += 1
        } else {
            partitions[index].otherKeyMessages += 1
        }
        partitions[index].rate.record(at: second)
    }

    /// `key`, cut to ``maxKeyBytes`` on a character boundary and marked when cut.
    static func bounded(_ key: String) -> String {
        guard key.utf8.count > maxKeyBytes else { return key }
        var cut = ""
        for character in key {
            guard cut.utf8.count + character.utf8.count <= maxKeyBytes else { break }
            cut.append(character)
        }
        return cut + "…"
    }

    public mutating func setWatermarks(partition: Int32, low: Int64, high: Int64) {
        let index = Int(partition)
        guard index >= 0, index < partitionCount else { return }
        watermarks[index] = (low, high)
    }

    /// The analysis at `second` (Unix seconds), for the API and the dashboard.
    public func report(at second: Int64) -> PartitionReport {
        let counts = partitions.map(\.messages)
        let total = counts.reduce(0, +)
        let mean = Double(total) / Double(partitionCount)
        let score = Self.balanceScore(counts)
        var rows: [PartitionReport.Row] = []
        var hot: [Int32] = []
        for (index, partition) in partitions.enumerated() {
            let share = total > 0 ? Double(partition.messages) / Double(total) : 0
            let isHot = mean > 0 && Double(partition.messages) > thresholds.hotFactor * mean && partition.messages >= thresholds.hotMinimum
            if isHot { hot.append(Int32(index)) }
            let top = Self.top(thresholds.topKeys, of: partition.keys)
            rows.append(PartitionReport.Row(
                partition: Int32(index),
                messages: partition.messages,
                logMessages: watermarks[index].map { Int($0.high - $0.low) },
                highWatermark: watermarks[index]?.high,
                bytes: partition.bytes,
                distinctKeys: partition.keys.count + (partition.otherKeyMessages > 0 ? 1 : 0),
                share: share,
                ratePerSecond: partition.rate.rate(endingBefore: second),
                hot: isHot,
                topKeys: top.map { key, count in
                    PartitionReport.KeyShare(
                        key: key, messages: count,
                        share: partition.messages > 0 ? Double(count) / Double(partition.messages) : 0,
                        murmur2Partition: key.isEmpty || key.utf8.count > Self.maxKeyBytes ? nil : Int32(Murmur2.partition(for: key, partitionCount: partitionCount))
                    )
                }
            ))
        }
        return PartitionReport(
            partitions: rows, totalMessages: total, balanceScore: score, hotPartitions: hot,
            suggestions: Self.suggestions(rows: rows, total: total, score: score)
        )
    }

    /// The `count` keys with the most messages (ties by key), in one pass: a partition
    /// may hold thousands of keys and the report is built several times a second.
    static func top(_ count: Int, of keys: [String: Int]) -> [(key: String, value: Int)] {
        var best: [(key: String, value: Int)] = []
        for entry in keys {
            let ranksAbove = { (other: (key: String, value: Int)) in
                entry.value != other.value ? entry.value > other.value : entry.key < other.key
            }
            guard best.count < count || best.last.map(ranksAbove) == true else { continue }
            let index = best.firstIndex(where: ranksAbove) ?? best.endIndex
            best.insert((entry.key, entry.value), at: index)
            if best.count > count { best.removeLast() }
        }
        return best
    }

    /// 1 − coefficient of variation of the per-partition counts, clipped to [0, 1]:
    /// 1 is perfectly even, 0 is as uneven as one partition holding everything (or
    /// worse). With no messages the score is 1.
    public static func balanceScore(_ counts: [Int]) -> Double {
        guard !counts.isEmpty else { return 1 }
        let total = counts.reduce(0, +)
        guard total > 0 else { return 1 }
        let mean = Double(total) / Double(counts.count)
        let variance = counts.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(counts.count)
        let cv = variance.squareRoot() / mean
        return min(1, max(0, 1 - cv))
    }

    static func suggestions(rows: [PartitionReport.Row], total: Int, score: Double) -> [String] {
        var tips: [String] = []
        guard total > 0 else { return ["No messages yet: post some to see how keys spread over partitions."] }
        let idle = rows.filter { $0.messages == 0 }.map(\.partition)
        if !idle.isEmpty, total >= rows.count * 5 {
            tips.append("Partitions \(idle.map(String.init).joined(separator: ", ")) received nothing: with few distinct keys, some partitions stay idle. More distinct keys (more users) spread the load.")
        }
        for row in rows where row.hot {
            let topTwo = row.topKeys.prefix(2)
            let carried = topTwo.reduce(0.0) { $0 + $1.share }
            if topTwo.count == 2, carried >= 0.8 {
                tips.append("Partition \(row.partition) is hot and two keys carry \(Int(carried * 100))% of it (\(topTwo.map(\.key).joined(separator: ", "))). If their order only matters per session or per day, a composite key such as user_id:session spreads them while keeping each sequence in order.")
            } else if let first = row.topKeys.first, first.share >= 0.5 {
                tips.append("Partition \(row.partition) is hot because key '\(first.key)' carries \(Int(first.share * 100))% of it. One very active key cannot be split without giving up its order; a composite key (user_id:bucket) trades order for spread.")
            } else {
                tips.append("Partition \(row.partition) is hot (\(Int(row.share * 100))% of messages): several busy keys hash to it. More partitions, or different keys, would even it out.")
            }
        }
        if let keyless = rows.first(where: { $0.topKeys.contains { $0.key.isEmpty } }), keyless.messages > 0 {
            tips.append("Some records have no key: they spread over partitions, so no per-user order holds for them.")
        }
        if tips.isEmpty {
            tips.append(score >= 0.8 ? "Load is well spread: keys hash evenly over the partitions." : "Load is uneven but no partition is hot yet.")
        }
        return tips
    }
}

/// The body of `GET /api/partitions` and the `partitions` WebSocket channel.
public struct PartitionReport: Sendable, Codable, Equatable {
    public struct KeyShare: Sendable, Codable, Equatable {
        public var key: String
        public var messages: Int
        /// Of the partition's messages.
        public var share: Double
        /// Where murmur2 puts this key (nil for records without key).
        public var murmur2Partition: Int32?
    }

    public struct Row: Sendable, Codable, Equatable {
        public var partition: Int32
        /// Messages consumed from this partition.
        public var messages: Int
        /// Messages in the log now (high − low watermark), when known.
        public var logMessages: Int?
        public var highWatermark: Int64?
        public var bytes: Int
        public var distinctKeys: Int
        /// Of all consumed messages.
        public var share: Double
        /// Messages per second over the last 5 s.
        public var ratePerSecond: Double
        public var hot: Bool
        public var topKeys: [KeyShare]
    }

    public var partitions: [Row]
    public var totalMessages: Int
    public var balanceScore: Double
    public var hotPartitions: [Int32]
    public var suggestions: [String]
}
