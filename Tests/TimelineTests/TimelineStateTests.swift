import Testing
import Timeline

@Suite("TimelineState: timelines and the ordering verifier")
struct TimelineStateTests {
    private func post(_ user: String, _ sequence: Int64) -> PostRecord {
        PostRecord(userID: user, content: "\(user) #\(sequence)", sequence: sequence, timestamp: 1000 + sequence % 1000)
    }

    @Test("in-order posts are stored with no violation; the timeline keeps the newest N")
    func inOrder() {
        var state = TimelineState(capacity: 3)
        for sequence in 1...5 {
            #expect(state.apply(post("alice", Int64(sequence)), partition: 3, offset: Int64(sequence - 1)) == .stored)
        }
        let alice = state.users["alice"]
        #expect(alice?.posts.map(\.sequence) == [3, 4, 5])
        #expect(alice?.postCount == 5)
        #expect(alice?.lastSequence == 5)
        #expect(alice?.partitions == [3])
        #expect(state.counters.violations == 0)
        #expect(state.counters.checked == 5)
    }

    @Test("a full timeline drops its oldest as posts arrive, late ones included, and keeps its order")
    func fullTimelineOverTime() {
        var state = TimelineState(capacity: 4)
        // Thousands of posts through a timeline of 4: the slice's start moves far from
        // its buffer's, and late posts are inserted by index into it.
        var sequence: Int64 = 0
        var offset: Int64 = 0
        func apply(_ number: Int64) {
            state.apply(post("dana", number), partition: 1, offset: offset)
            offset += 1
        }
        for _ in 0..<1_000 {
            sequence += 3
            apply(sequence)  // skips two numbers: a gap
            apply(sequence - 1)  // late: inserted before the newest
            apply(sequence - 2)  // later still
            let posts = state.users["dana"]?.posts.map(\.sequence)
            let newest = Array(max(1, sequence - 3)...sequence)
            #expect(posts == newest, "after \(sequence)")
            if posts != newest { return }
        }
        #expect(state.users["dana"]?.postCount == 3_000)
        #expect(state.counters.gaps == 1_000 && state.counters.outOfOrder == 2_000)
        #expect(state.users["dana"]?.posts.first?.content == "dana #\(sequence - 3)")
    }

    @Test("a skipped number is a gap; when it arrives it is out of order, with both positions")
    func gapThenOutOfOrder() throws {
        var state = TimelineState()
        state.apply(post("bob", 1), partition: 0, offset: 10)
        guard case .storedWithViolation(let gap) = state.apply(post("bob", 3), partition: 1, offset: 20) else {
            Issue.record("no gap"); return
        }
        #expect(gap.kind == .gap)
        #expect(gap.expected == 2 && gap.got == 3)
        #expect(gap.record == .init(partition: 1, offset: 20))
        #expect(gap.previous == .init(partition: 0, offset: 10))

        guard case .storedWithViolation(let late) = state.apply(post("bob", 2), partition: 2, offset: 5) else {
            Issue.record("no out-of-order"); return
        }
        #expect(late.kind == .outOfOrder)
        #expect(late.expected == 4 && late.got == 2)
        #expect(state.users["bob"]?.posts.map(\.sequence) == [1, 2, 3])
        #expect(state.users["bob"]?.partitions == [0, 1, 2])
        #expect(state.counters.gaps == 1 && state.counters.outOfOrder == 1)
        #expect(state.recentViolations.map(\.kind) == [.gap, .outOfOrder])
    }

    @Test("the same (user, sequence) twice is stored once and counted as a duplicate")
    func duplicate() {
        var state = TimelineState()
        state.apply(post("carol", 1), partition: 2, offset: 0)
        state.apply(post("carol", 2), partition: 2, offset: 1)
        guard case .duplicate(let duplicate) = state.apply(post("carol", 1), partition: 2, offset: 0) else {
            Issue.record("no duplicate"); return
        }
        #expect(duplicate.kind == .duplicate)
        #expect(state.users["carol"]?.posts.count == 2)
        #expect(state.users["carol"]?.postCount == 2)
        #expect(state.users["carol"]?.duplicates == 1)
        #expect(state.counters.duplicates == 1)
    }

    @Test("a known failed send is a hole, not a gap, whether marked before or after")
    func holes() {
        var state = TimelineState()
        state.markHole(userID: "dan", sequence: 2)
        state.apply(post("dan", 1), partition: 0, offset: 0)
        #expect(state.apply(post("dan", 3), partition: 0, offset: 1) == .stored)

        // Marked after the gap was seen: the gap is withdrawn.
        state.apply(post("dan", 5), partition: 0, offset: 2)
        #expect(state.counters.gaps == 1)
        #expect(state.usersWithViolations == 1)
        state.markHole(userID: "dan", sequence: 4)
        #expect(state.counters.gaps == 0)
        #expect(state.usersWithViolations == 0)
        #expect(state.recentViolations.isEmpty)
        #expect(state.users["dan"]?.violations == 0)

        // A gap of two where only one is explained stays a gap.
        state.apply(post("dan", 8), partition: 0, offset: 3)
        state.markHole(userID: "dan", sequence: 6)
        #expect(state.counters.gaps == 1)
        // Kept as users change, equal to counting them.
        #expect(state.usersWithViolations == state.users.values.filter { $0.violations > 0 }.count)
        state.apply(post("fay", 1), partition: 0, offset: 0)
        state.apply(post("fay", 1), partition: 0, offset: 1)
        #expect(state.usersWithViolations == 2)

        // A "failed" send that was stored after all is late, not a violation.
        state.markHole(userID: "erin", sequence: 2)
        state.apply(post("erin", 1), partition: 0, offset: 0)
        state.apply(post("erin", 3), partition: 0, offset: 1)
        #expect(state.apply(post("erin", 2), partition: 0, offset: 2) == .stored)
        #expect(state.users["erin"]?.violations == 0)
        #expect(state.counters.knownHoles == 4)
    }

    @Test("a huge first sequence number costs no memory per missing number")
    func hugeGap() {
        var state = TimelineState()
        guard case .storedWithViolation(let gap) = state.apply(post("zed", 1_000_000_000), partition: 0, offset: 0) else {
            Issue.record("no gap"); return
        }
        #expect(gap.expected == 1)
        #expect(state.users["zed"]?.lastSequence == 1_000_000_000)
    }

    @Test("the recent-violation list is bounded")
    func boundedHistory() {
        var state = TimelineState(violationHistory: 5)
        state.apply(post("x", 1), partition: 0, offset: 0)
        for _ in 0..<20 { state.apply(post("x", 1), partition: 0, offset: 0) }
        #expect(state.recentViolations.count == 5)
        #expect(state.counters.duplicates == 20)
    }

    /// A forged record per user that jumps 10,001 ahead made the state remember 10,000
    /// missing numbers each: 50,000 such records of 80 bytes held ~10 GB.
    @Test("missing numbers remembered are bounded across all users; the gaps are still reported")
    func trackedMissingIsBounded() {
        var state = TimelineState()
        for user in 0..<200 {
            state.apply(post("g\(user)", 10_001), partition: 0, offset: Int64(user))
        }
        #expect(state.counters.gaps == 200)
        #expect(state.trackedMissing <= TimelineState.maxTrackedMissing)
        #expect(state.trackedMissing > 0)
        // A number that filled a tracked gap is out of order and no longer remembered.
        let before = state.trackedMissing
        guard case .storedWithViolation(let late) = state.apply(post("g0", 5), partition: 0, offset: 1000) else {
            Issue.record("not out of order"); return
        }
        #expect(late.kind == .outOfOrder)
        #expect(state.trackedMissing == before - 1)
    }

    @Test("sequence numbers at the top of Int64 never trap, whatever the caller applies")
    func extremeSequences() {
        var state = TimelineState()
        state.apply(post("v", .max), partition: 0, offset: 0)
        #expect(state.apply(post("v", 1), partition: 0, offset: 1) != .stored)
        #expect(state.apply(post("v", .max), partition: 0, offset: 2) != .stored)
        state.apply(post("w", 1), partition: 0, offset: 3)
        guard case .storedWithViolation(let gap) = state.apply(post("w", .max - 1), partition: 0, offset: 4) else {
            Issue.record("no gap"); return
        }
        #expect(gap.kind == .gap)
        #expect(state.apply(post("w", .max), partition: 0, offset: 5) == .stored)
    }
}

@Suite("RateWindows: 1-second tumbling windows")
struct RateWindowsTests {
    @Test("counts per second, oldest first, old seconds forgotten")
    func windows() {
        var windows = RateWindows(length: 5)
        windows.record(3, at: 100)
        windows.record(at: 101)
        windows.record(2, at: 101)
        windows.record(at: 103)
        #expect(windows.series(endingAt: 103, seconds: 5) == [0, 3, 3, 0, 1])
        windows.record(7, at: 106)  // reuses the slot of 101
        #expect(windows.series(endingAt: 106, seconds: 5) == [0, 1, 0, 0, 7])
        windows.record(9, at: 101)  // older than the window: dropped
        #expect(windows.series(endingAt: 106, seconds: 5) == [0, 1, 0, 0, 7])
        #expect(windows.rate(endingBefore: 107, seconds: 5) == 8.0 / 5)
    }
}

@Suite("PartitionAnalyzer")
struct PartitionAnalyzerTests {
    /// Keys of any size from anyone with a Kafka client: a few thousand 1 MB keys, or a
    /// random key per post, grew the analyzer without bound.
    @Test("keys are cut to 256 bytes and distinct keys per partition are bounded; the counts stay exact")
    func keysAreBounded() {
        var analyzer = PartitionAnalyzer(partitionCount: 2)
        analyzer.record(partition: 0, key: String(repeating: "k", count: 1_000_000), bytes: 1, second: 1)
        let long = analyzer.partitions[0].keys.keys.first ?? ""
        #expect(long.utf8.count <= PartitionAnalyzer.maxKeyBytes + 3)
        for index in 0..<(PartitionAnalyzer.maxDistinctKeys + 500) {
            analyzer.record(partition: 1, key: "user-\(index)", bytes: 1, second: 1)
        }
        #expect(analyzer.partitions[1].keys.count <= PartitionAnalyzer.maxDistinctKeys)
        #expect(analyzer.partitions[1].messages == PartitionAnalyzer.maxDistinctKeys + 500)
        let row = analyzer.report(at: 2).partitions[1]
        #expect(row.messages == PartitionAnalyzer.maxDistinctKeys + 500)
        #expect(row.distinctKeys >= PartitionAnalyzer.maxDistinctKeys)
        #expect(row.topKeys.count == 3)
        // A truncated key names no partition: its hash is not the real key's.
        #expect(analyzer.report(at: 2).partitions[0].topKeys.first?.murmur2Partition == nil)
    }

    @Test("balance score is 1 − coefficient of variation, clipped")
    func balance() {
        #expect(PartitionAnalyzer.balanceScore([10, 10, 10]) == 1)
        #expect(PartitionAnalyzer.balanceScore([0, 0, 0]) == 1)
        #expect(PartitionAnalyzer.balanceScore([30, 0, 0, 0, 0, 0]) == 0)
        // counts 5, 15: mean 10, sd 5, cv 0.5
        #expect(abs(PartitionAnalyzer.balanceScore([5, 15]) - 0.5) < 1e-9)
    }

    @Test("a partition carried by two keys is hot, with its dominant keys and a composite-key suggestion")
    func hotPartition() {
        var analyzer = PartitionAnalyzer(partitionCount: 6)
        for _ in 0..<60 { analyzer.record(partition: 3, key: "alice", bytes: 100, second: 10) }
        for _ in 0..<40 { analyzer.record(partition: 3, key: "kate", bytes: 100, second: 10) }
        for partition in [0, 1, 2, 4, 5] { analyzer.record(partition: Int32(partition), key: "u\(partition)", bytes: 50, second: 10) }
        analyzer.setWatermarks(partition: 3, low: 0, high: 100)
        let report = analyzer.report(at: 11)
        #expect(report.totalMessages == 105)
        #expect(report.hotPartitions == [3])
        let row = report.partitions[3]
        #expect(row.messages == 100 && row.bytes == 10_000 && row.distinctKeys == 2)
        #expect(row.logMessages == 100)
        #expect(row.topKeys.map(\.key) == ["alice", "kate"])
        #expect(row.topKeys.first?.murmur2Partition == 3)
        #expect(row.ratePerSecond == 20)  // 100 messages in second 10, averaged over 5 s
        #expect(report.suggestions.contains { $0.contains("composite key") && $0.contains("alice") })
        #expect(report.balanceScore < 0.5)
    }

    @Test("an even spread gets no hot partition")
    func even() {
        var analyzer = PartitionAnalyzer(partitionCount: 3)
        for index in 0..<300 { analyzer.record(partition: Int32(index % 3), key: "k\(index)", bytes: 1, second: 1) }
        let report = analyzer.report(at: 2)
        #expect(report.hotPartitions.isEmpty)
        #expect(report.balanceScore == 1)
        #expect(report.suggestions == ["Load is well spread: keys hash evenly over the partitions."])
    }

}
