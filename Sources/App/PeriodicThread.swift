import Foundation
import Synchronization

/// Runs `body` every `interval` on a thread of its own until stopped. For work that
/// blocks (Kafka admin calls) or must not wait for the cooperative pool.
final class PeriodicThread: Sendable {
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(name: String, interval: Duration, body: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            let clock = ContinuousClock()
            var next = clock.now
            while !stopRequested.load(ordering: .acquiring) {
                body()
                next += interval
                // Sleep in short steps so stop() returns quickly.
                while !stopRequested.load(ordering: .acquiring), clock.now < next {
                    let left = next - clock.now
                    Thread.sleep(forTimeInterval: min(0.05, left.inSeconds))
                }
                if clock.now - next > interval { next = clock.now }  // fell behind: don't burst
            }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Stops the loop and waits for the current run to finish. Idempotent.
    func stop() {
        if stopRequested.exchange(true, ordering: .acquiringAndReleasing) { return }
        finished.wait()
    }
}
