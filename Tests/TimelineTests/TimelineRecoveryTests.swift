import Testing
import Timeline

@Suite("Recovery at start and the sequence allocator, without Kafka")
struct TimelineRecoveryTests {
    @Test("ready only with partitions assigned and every partition read to where the log ended at start; the transition is reported once")
    func recovery() {
        var recovery = TimelineRecovery()
        #expect(recovery.readiness(positions: [:]) == .waitingForKafka("reading the end of user-timeline"))
        recovery.failed("broker down")
        #expect(recovery.readiness(positions: [:]) == .waitingForKafka("broker down"))
        // Partition 0 ends at 5, partition 1 at 3 (already read), partition 2 is empty.
        #expect(recovery.setTargets(ends: [0: 5, 1: 3], positions: [1: 3]) == false)
        #expect(recovery.readiness(positions: [1: 3]) == .joiningGroup)
        #expect(recovery.partitionsAssigned() == false)
        #expect(recovery.readiness(positions: [0: 2]) == .replaying(remaining: 3))
        // Only the first targets count.
        #expect(recovery.setTargets(ends: [0: 50], positions: [:]) == false)
        #expect(recovery.advanced(partition: 0, to: 4) == false)
        #expect(recovery.advanced(partition: 7, to: 100) == false)
        #expect(recovery.advanced(partition: 0, to: 5) == true)
        #expect(recovery.isReady)
        #expect(recovery.readiness(positions: [:]) == .ready)
        #expect(recovery.advanced(partition: 0, to: 6) == false)
        #expect(recovery.partitionsAssigned() == false)
    }

    @Test("an empty log: ready as soon as the partitions are assigned, whichever comes first")
    func emptyLog() {
        var first = TimelineRecovery()
        #expect(first.partitionsAssigned() == false)
        #expect(first.setTargets(ends: [:], positions: [:]) == true)
        var second = TimelineRecovery()
        #expect(second.setTargets(ends: [:], positions: [:]) == false)
        #expect(second.partitionsAssigned() == true)
    }

    /// librdkafka may start some partitions half a second late (no leader known yet at
    /// assignment): posts taken before every partition is read took that long to show.
    @Test("ready only once each assigned partition was read from (a record, or its end reached)")
    func everyPartitionRead() {
        var recovery = TimelineRecovery()
        #expect(recovery.setTargets(ends: [1: 2], positions: [:]) == false)
        // The cluster's partitions, whatever the server was told to expect.
        #expect(recovery.partitionsAssigned([0, 1, 2]) == false)
        #expect(recovery.readiness(positions: [:]) == .joiningGroup)
        #expect(recovery.reading(partition: 0) == false)
        #expect(recovery.reading(partition: 0) == false)
        // A record of partition 1 at its end counts as reading it and as caught up.
        #expect(recovery.advanced(partition: 1, to: 2) == false)
        #expect(recovery.readiness(positions: [1: 2]) == .joiningGroup)
        #expect(recovery.reading(partition: 2) == true)
        #expect(recovery.isReady)
        #expect(recovery.readiness(positions: [:]) == .ready)
        #expect(recovery.reading(partition: 2) == false)
        // The last partition read by a record that also ends the replay: reported once.
        var replay = TimelineRecovery()
        _ = replay.setTargets(ends: [0: 1], positions: [:])
        _ = replay.partitionsAssigned([0, 1])
        _ = replay.reading(partition: 1)
        #expect(replay.advanced(partition: 0, to: 1) == true)
        #expect(replay.advanced(partition: 0, to: 2) == false)
    }

    @Test("sequences continue above the log's, per user, and stop at maxSequence")
    func sequences() {
        var allocator = SequenceAllocator()
        #expect(allocator.next(for: "ann") == 1)
        #expect(allocator.next(for: "ann") == 2)
        allocator.raise(to: ["ann": 1, "bo": 41])
        #expect(allocator.next(for: "ann") == 3)
        #expect(allocator.next(for: "bo") == 42)
        allocator.raise(to: ["cy": PostRecord.maxSequence - 1])
        #expect(allocator.next(for: "cy") == PostRecord.maxSequence)
        #expect(allocator.next(for: "cy") == nil)
        #expect(allocator.next(for: "cy") == nil)
        allocator.raise(to: ["dee": .max])
        #expect(allocator.next(for: "dee") == nil)
    }
}
