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
