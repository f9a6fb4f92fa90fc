import Leaderboard
import Testing

@Suite("Merging partitions by record time")
struct TimeOrderedMergeTests {
    let start = ContinuousClock.now

    @Test("records are released oldest first once every source has a record or is caught up, whatever the arrival order")
    func ordersAcrossSources() {
        var merge = TimeOrderedMerge<String, String>(sources: ["a", "b", "c"], now: start)
        merge.push("a1", time: 10, from: "a")
        merge.push("a2", time: 30, from: "a")
        // b and c have said nothing: a record from them could still be older.
        #expect(merge.release(now: start).isEmpty)
        merge.push("b1", time: 20, from: "b")
        #expect(merge.release(now: start).isEmpty)
        merge.caughtUp("c")
        // a1 (10) and b1 (20) go; a2 (30) waits for b, empty and not caught up.
        #expect(merge.release(now: start) == ["a1", "b1"])
        merge.push("b2", time: 25, from: "b")
        merge.caughtUp("b")
        #expect(merge.release(now: start) == ["b2", "a2"])
        #expect(merge.count == 0)
    }

    @Test("the same records in any interleaving come out in one order; ties go by source order, then arrival")
    func deterministic() {
        let records: [(source: Int, time: Int64)] = [(0, 5), (1, 5), (2, 3), (0, 7), (1, 6), (2, 9), (0, 9), (1, 9)]
        func run(_ arrival: [Int]) -> [Int] {
            var merge = TimeOrderedMerge<Int, Int>(sources: [0, 1, 2], now: start)
            var out: [Int] = []
            for index in arrival {
                merge.push(index, time: records[index].time, from: records[index].source)
                out += merge.release(now: start)
            }
            for source in 0..<3 { merge.caughtUp(source) }
            return out + merge.release(now: start)
        }
        let expected = [2, 0, 1, 4, 3, 6, 7, 5]
        #expect(run(Array(0..<8)) == expected)
        // Each source's records arrive in their own order (as a partition's do), the
        // sources one after another.
        #expect(run([2, 5, 1, 4, 7, 0, 3, 6]) == expected)
        #expect(run([0, 3, 6, 1, 4, 7, 2, 5]) == expected)
    }

    @Test("a silent source that never says it is caught up is waited for at most maxIdle")
    func idleSource() {
        var merge = TimeOrderedMerge<String, Int>(sources: ["a", "b"], maxIdle: .milliseconds(500), now: start)
        merge.push(1, time: 100, from: "a")
        #expect(merge.release(now: start + .milliseconds(499)).isEmpty)
        #expect(merge.release(now: start + .milliseconds(500)) == [1])
    }

    @Test("restarting the idle clocks (reading starts) waits for silent sources from then, not from creation")
    func idleClocksRestart() {
        var merge = TimeOrderedMerge<String, Int>(sources: ["a", "b"], maxIdle: .milliseconds(500), now: start)
        // Connecting took 2 s: b has been silent since creation, but reading only began now.
        merge.restartIdleClocks(now: start + .seconds(2))
        merge.push(1, time: 100, from: "a")
        #expect(merge.release(now: start + .seconds(2)).isEmpty)
        #expect(merge.release(now: start + .milliseconds(2_499)).isEmpty)
        #expect(merge.release(now: start + .milliseconds(2_500)) == [1])
    }

    @Test("past maxBuffered waiting records the oldest is released regardless, keeping memory bounded")
    func bounded() {
        var merge = TimeOrderedMerge<String, Int>(sources: ["a", "b"], maxBuffered: 3, now: start)
        for n in 0..<5 { merge.push(n, time: Int64(n), from: "a") }
        #expect(merge.release(now: start) == [0, 1])
        #expect(merge.count == 3)
    }

    @Test("a source not named at the start joins on its first record")
    func lateSource() {
        var merge = TimeOrderedMerge<String, Int>(sources: ["a"], now: start)
        merge.caughtUp("a")
        merge.push(1, time: 50, from: "z")
        #expect(merge.release(now: start) == [1])
        // z ran empty without catching up: it now holds back a's newer records.
        merge.push(2, time: 60, from: "a")
        #expect(merge.release(now: start).isEmpty)
        merge.caughtUp("z")
        #expect(merge.release(now: start) == [2])
    }

    @Test("long lanes are compacted without losing or reordering records")
    func longLane() {
        var merge = TimeOrderedMerge<Int, Int>(sources: [0], now: start)
        for n in 0..<5_000 { merge.push(n, time: Int64(n), from: 0) }
        var out: [Int] = []
        merge.caughtUp(0)
        out += merge.release(now: start)
        for n in 5_000..<6_000 { merge.push(n, time: Int64(n), from: 0) }
        merge.caughtUp(0)
        out += merge.release(now: start)
        #expect(out == Array(0..<6_000))
    }
}
