@testable import App
import Kafka
import Testing
import Timeline

@Suite("TimelineService: records as the consumer hands them over")
struct TimelineServiceTests {
    static func record(_ user: String, seq: Int64, partition: Int32, offset: Int64) -> KafkaRecord {
        let value = PostRecord(userID: user, content: "#\(seq)", sequence: seq, timestamp: 1_795_000_000_000).encoded()
        return KafkaRecord(topic: "user-timeline", partition: partition, offset: offset, key: Array(user.utf8), value: value, timestampMilliseconds: nil)
    }

    /// After brokers went down and came back, the consumer fetched offsets it had
    /// applied already, and the ordering panel showed 224 "duplicates" that were the same
    /// records read twice.
    @Test("a record read again at an applied offset is a re-read, not a duplicate")
    func rereadsAreNotDuplicates() throws {
        let service = TimelineService(partitionCount: 6, timelineCapacity: 100, recentMessages: 10, logger: quietLogger)
        for offset in 0..<5 {
            _ = service.apply(Self.record("ann", seq: Int64(offset + 1), partition: 2, offset: Int64(offset)), now: 1)
        }
        // The consumer goes back two offsets, then goes on.
        for offset in 3..<7 {
            let applied = service.apply(Self.record("ann", seq: Int64(offset + 1), partition: 2, offset: Int64(offset)), now: 2)
            if offset < 5 {
                guard case .reread = applied else { Issue.record("offset \(offset) applied twice: \(applied)"); continue }
            }
        }
        let report = service.orderingReport()
        #expect(report.counters.duplicates == 0)
        #expect(report.violations == 0)
        #expect(report.rereads == 2)
        #expect(report.counters.checked == 7)
        // A real duplicate (the same post at a new offset) still counts.
        guard case .duplicate = service.apply(Self.record("ann", seq: 7, partition: 2, offset: 7), now: 3) else {
            Issue.record("a duplicate post was not reported"); return
        }
    }

    /// With the re-read skip alone, a topic deleted and created again (offsets from 0)
    /// had every new record counted as a re-read, never shown, until a restart.
    @Test("a partition whose log ends before the read position is read anew")
    func recreatedTopic() {
        let service = TimelineService(partitionCount: 6, timelineCapacity: 100, recentMessages: 10, logger: quietLogger)
        for offset in 0..<5 {
            _ = service.apply(Self.record("bo", seq: Int64(offset + 1), partition: 1, offset: Int64(offset)), now: 1)
        }
        #expect(service.forgetPositionsPastEnd([1: (low: 0, high: 5), 2: (low: 0, high: 0)], readBefore: service.consumedPositions).isEmpty)
        #expect(service.forgetPositionsPastEnd([1: (low: 0, high: 2)], readBefore: service.consumedPositions) == [1])
        guard case .post = service.apply(Self.record("cy", seq: 1, partition: 1, offset: 0), now: 2) else {
            Issue.record("a record of the new log was skipped as a re-read"); return
        }
        #expect(service.orderingReport().rereads == 0)
    }

    /// Under load the log warned "partition ends before where it was read" every second
    /// and dropped the re-read guard: the lag worker asked for the watermarks, and the
    /// consumer had read past that high watermark by the time its position was compared.
    @Test("a position read after the watermarks were asked for is not a log that shrank")
    func positionPastStaleWatermarks() {
        let service = TimelineService(partitionCount: 6, timelineCapacity: 100, recentMessages: 10, logger: quietLogger)
        for offset in 0..<3 {
            _ = service.apply(Self.record("ed", seq: Int64(offset + 1), partition: 4, offset: Int64(offset)), now: 1)
        }
        let before = service.consumedPositions
        // The watermarks say 3; meanwhile the consumer reads offsets 3 and 4.
        for offset in 3..<5 {
            _ = service.apply(Self.record("ed", seq: Int64(offset + 1), partition: 4, offset: Int64(offset)), now: 1)
        }
        #expect(service.forgetPositionsPastEnd([4: (low: 0, high: 3)], readBefore: before).isEmpty)
        #expect(service.consumedPositions[4] == 5)
        // Still a re-read guard: offset 2 again is not applied twice.
        guard case .reread = service.apply(Self.record("ed", seq: 3, partition: 4, offset: 2), now: 2) else {
            Issue.record("a re-read was applied again after the stale watermarks"); return
        }
    }

    /// A SIGTERM while posts flowed: the consumer was closed (and committed) before it
    /// read the last acknowledged ones, which a clean stop now waits for.
    @Test("a stop waits until the acknowledged posts are read, and no longer than its timeout")
    func stopWaitsForAcknowledgedPosts() {
        let service = TimelineService(partitionCount: 6, timelineCapacity: 100, recentMessages: 10, logger: quietLogger)
        #expect(service.waitUntilAcknowledgedRead(timeout: .zero) == 0)
        service.sendSucceeded(at: 1, partition: 2, offset: 3)
        service.sendSucceeded(at: 1, partition: 4, offset: 0)
        service.sendSucceeded(at: 1, partition: 2, offset: 1)  // an older report: the end stays past 3
        #expect(service.unreadAcknowledged == 5)
        for offset in 0..<3 {
            _ = service.apply(Self.record("di", seq: Int64(offset + 1), partition: 2, offset: Int64(offset)), now: 1)
        }
        #expect(service.unreadAcknowledged == 2)
        let start = ContinuousClock.now
        #expect(service.waitUntilAcknowledgedRead(timeout: .milliseconds(100)) == 2)
        #expect(ContinuousClock.now - start >= .milliseconds(100))
        _ = service.apply(Self.record("di", seq: 4, partition: 2, offset: 3), now: 1)
        _ = service.apply(Self.record("ed", seq: 1, partition: 4, offset: 0), now: 1)
        #expect(service.waitUntilAcknowledgedRead(timeout: .seconds(10)) == 0)
    }
}
