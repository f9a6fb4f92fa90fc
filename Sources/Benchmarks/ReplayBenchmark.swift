import App
import Foundation
import Kafka
import Logging
import ServerSupport
import Timeline

/// Measures how fast records of `user-timeline` are rebuilt into timelines, and the
/// memory the timelines take, without a broker: the same decode-and-apply path the
/// timeline consumer runs, fed from memory. (The embedded cluster keeps at most 5 MB per
/// partition, far less than a million posts, so it cannot hold this replay.)
public enum ReplayBenchmark {
    public struct Result: Encodable, Sendable {
        public var records: Int
        public var users: Int
        public var seconds: Double
        public var recordsPerSecond: Double
        /// Resident memory before building the timelines and after, in MiB.
        public var rssBeforeMiB: Double
        public var rssAfterMiB: Double
        public var violations: Int

        enum CodingKeys: String, CodingKey {
            case records, users, seconds, violations
            case recordsPerSecond = "records_per_second"
            case rssBeforeMiB = "rss_before_mib"
            case rssAfterMiB = "rss_after_mib"
        }
    }

    /// Replays `records` posts spread evenly over `users` users (in each user's
    /// sequence order) through a fresh `TimelineService`.
    public static func run(records: Int, users: Int) -> Result {
        let service = TimelineService(partitionCount: 6, timelineCapacity: 100, recentMessages: 50, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
        let userIDs = (0..<users).map { "user-\($0)" }
        let partitions = userIDs.map { Int32(Murmur2.partition(for: $0, partitionCount: 6)) }
        var offsets = [Int64](repeating: 0, count: 6)
        let rssBefore = residentMiB()
        var applying = Duration.zero
        let chunk = 20_000
        var produced = 0
        let second = currentSecond()
        while produced < records {
            // Build a chunk of records outside the timed part.
            let count = min(chunk, records - produced)
            var batch: [KafkaRecord] = []
            batch.reserveCapacity(count)
            for index in produced..<(produced + count) {
                let user = index % users
                let sequence = Int64(index / users + 1)
                let post = PostRecord(userID: userIDs[user], content: "benchmark post \(sequence) from \(userIDs[user]), about sixty bytes", sequence: sequence, timestamp: 1_700_000_000_000 + Int64(index))
                let partition = partitions[user]
                batch.append(KafkaRecord(
                    topic: "user-timeline", partition: partition, offset: offsets[Int(partition)], key: Array(userIDs[user].utf8),
                    value: post.encoded(), timestampMilliseconds: post.timestamp
                ))
                offsets[Int(partition)] += 1
            }
            let start = ContinuousClock.now
            for record in batch { service.replay(record, now: second) }
            applying += ContinuousClock.now - start
            produced += count
        }
        let seconds = applying.inSeconds
        let violations = service.violationCount
        return Result(
            records: records, users: users, seconds: seconds, recordsPerSecond: Double(records) / max(seconds, 1e-9),
            rssBeforeMiB: rssBefore, rssAfterMiB: residentMiB(), violations: violations
        )
    }

    /// VmRSS of this process, in MiB (0 where /proc is missing).
    static func residentMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kib / 1024
    }
}
