import Timeline

/// The `ordering` channel and `GET /api/ordering`.
struct OrderingReport: Encodable, Sendable {
    struct Malformed: Encodable, Sendable {
        var count: Int
        var byReason: [String: Int]
        /// Newest last.
        var recent: [TimelineService.MalformedRecord]

        enum CodingKeys: String, CodingKey {
            case count, recent
            case byReason = "by_reason"
        }
    }

    var counters: TimelineState.Counters
    var violations: Int
    var users: Int
    var usersWithViolations: Int
    /// Newest first.
    var recentViolations: [OrderingViolation]
    var malformed: Malformed
    /// Records fetched again at an offset already applied (after a broker failover):
    /// skipped, never counted as duplicates.
    var rereads: Int

    enum CodingKeys: String, CodingKey {
        case counters, violations, users, malformed, rereads
        case usersWithViolations = "users_with_violations"
        case recentViolations = "recent_violations"
    }
}

/// The `throughput` channel: messages per second in 1-second tumbling windows.
struct ThroughputReport: Encodable, Sendable {
    var windowSeconds: Int
    /// The last (current, incomplete) second of the series, Unix seconds.
    var now: Int64
    /// Acknowledged posts per second, oldest first.
    var produced: [Int]
    /// Records consumed from user-timeline per second, oldest first.
    var consumed: [Int]
    /// Averages over the last 5 complete seconds.
    var producedPerSecond: Double
    var consumedPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case now, produced, consumed
        case windowSeconds = "window_seconds"
        case producedPerSecond = "produced_per_second"
        case consumedPerSecond = "consumed_per_second"
    }
}

/// The `lag` channel: how far the timeline consumer is behind each partition's end.
struct LagReport: Encodable, Sendable {
    struct Partition: Encodable, Sendable {
        var partition: Int32
        var highWatermark: Int64
        /// Next offset the server will read.
        var consumed: Int64
        /// Next offset the group will read, once it committed one.
        var committed: Int64?
        /// High watermark − consumed.
        var lag: Int64

        enum CodingKeys: String, CodingKey {
            case partition, consumed, committed, lag
            case highWatermark = "high_watermark"
        }
    }

    var group: String
    var partitions: [Partition]
    var totalLag: Int64
    /// Milliseconds since the epoch of the measurement.
    var measuredAt: Int64?
    var error: String?

    enum CodingKeys: String, CodingKey {
        case group, partitions, error
        case totalLag = "total_lag"
        case measuredAt = "measured_at"
    }
}

/// The `messages` channel snapshot.
struct MessagesSnapshot: Encodable, Sendable {
    /// Oldest first.
    var messages: [RecentPosts.Message]
    var consumed: Int
    var malformed: Int
}
