import Foundation
import ServerSupport
import Synchronization
import Testing

@Suite("Worker and Lifecycle")
struct LifecycleTests {
    @Test("a periodic worker runs again after its interval and its stop wakes it from a long sleep")
    func workerRunsAndStops() {
        let runs = Atomic<Int>(0)
        let worker = Worker(name: "test-periodic", every: .seconds(3600)) { _ in runs.add(1, ordering: .relaxed) }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while runs.load(ordering: .relaxed) == 0, clock.now < deadline {}
        let start = clock.now
        worker.stop()
        // Asleep for an hour: only the wake-up can make this quick.
        #expect(clock.now - start < .seconds(2))
        #expect(runs.load(ordering: .relaxed) == 1)
        worker.stop()  // idempotent
    }

    @Test("a worker without interval runs back to back; a one-shot worker runs once")
    func backToBackAndOnce() {
        let loops = Atomic<Int>(0)
        let busy = Worker(name: "test-loop") { _ in loops.add(1, ordering: .relaxed) }
        let deadline = ContinuousClock.now + .seconds(5)
        while loops.load(ordering: .relaxed) < 100, ContinuousClock.now < deadline {}
        busy.stop()
        #expect(loops.load(ordering: .relaxed) >= 100)

        let once = Atomic<Int>(0)
        let single = Worker.once(name: "test-once") { _ in once.add(1, ordering: .relaxed) }
        // A one-shot worker counts as stopping once its run returned.
        let end = ContinuousClock.now + .seconds(5)
        while !single.isStopping, ContinuousClock.now < end {}
        single.stop()
        #expect(once.load(ordering: .relaxed) == 1)
        #expect(single.isStopping)
    }

    @Test("a worker's thread carries its name, cut to the 15 bytes Linux keeps")
    func threadIsNamed() throws {
        let seen = Mutex<[String]>([])
        // Many at once: a thread that names itself before its creator's `start()`
        // returned kept the creator's name (seen in CI, and by hand under load).
        let names = (0..<64).map { $0.isMultiple(of: 2) ? "test-named-\($0)" : "leaderboard-publisher-\($0)" }
        let workers = names.map { name in
            Worker.once(name: name) { _ in
                // The kernel's view of the running thread, as `top -H` and `perf` show it.
                let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
                seen.withLock { $0.append(comm.trimmingCharacters(in: .newlines)) }
            }
        }
        // A stop asked for before the thread starts would skip the run: let each end itself.
        let deadline = ContinuousClock.now + .seconds(5)
        while workers.contains(where: { !$0.isStopping }), ContinuousClock.now < deadline {}
        for worker in workers { worker.stop() }
        let expected = names.map { String(decoding: $0.utf8.prefix(15), as: UTF8.self) }
        #expect(seen.withLock { $0.sorted() } == expected.sorted())
        #expect(expected.contains("leaderboard-pub") && expected.contains("test-named-10"))
    }

    @Test("parts stop newest first, once; every worker is asked to stop before any part is waited for")
    func reverseOrder() throws {
        let events = Mutex<[String]>([])
        let lifecycle = Lifecycle()
        lifecycle.started("kafka") { events.withLock { $0.append("stop kafka") } }
        let running = Atomic<Bool>(false)
        let worker = Worker(name: "job", every: .seconds(3600)) { worker in
            // The worker's run ends only when asked to stop: the stop request must come
            // before the parts registered after it are stopped.
            running.store(true, ordering: .releasing)
            while !worker.isStopping { usleepBriefly() }
            events.withLock { $0.append("job saw stop") }
        }
        lifecycle.started(worker)
        lifecycle.started("http") {
            usleepBriefly()
            events.withLock { $0.append("stop http") }
        }
        #expect(lifecycle.names == ["kafka", "job", "http"])
        // Stop only once the job runs (a worker stopped before its thread started never
        // runs its body).
        let deadline = ContinuousClock.now + .seconds(5)
        while !running.load(ordering: .acquiring), ContinuousClock.now < deadline {}
        lifecycle.stop()
        lifecycle.stop()
        let seen = events.withLock { $0 }
        #expect(seen.filter { $0.hasPrefix("stop") } == ["stop http", "stop kafka"])
        let sawStop = try #require(seen.firstIndex(of: "job saw stop"))
        let kafkaStopped = try #require(seen.firstIndex(of: "stop kafka"))
        #expect(sawStop < kafkaStopped)
        #expect(seen.count == 3)
    }
}

private func usleepBriefly() {
    let end = ContinuousClock.now + .milliseconds(20)
    while ContinuousClock.now < end {}
}
