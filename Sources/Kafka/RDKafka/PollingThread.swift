import Foundation
import Synchronization

/// A dedicated thread that runs a polling loop until asked to stop.
///
/// librdkafka's blocking polls must not run on Swift's cooperative pool; each client
/// gets its own thread instead, which also keeps delivery-report latency independent of
/// how busy the pool is.
final class PollingThread: Sendable {
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts `body` on a new thread. `body` must return soon after ``isStopping``
    /// becomes true (poll with a short timeout).
    init(name: String, body: @escaping @Sendable (PollingThread) -> Void) {
        let thread = Thread { [finished] in
            body(self)
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    var isStopping: Bool { stopRequested.load(ordering: .acquiring) }

    /// Asks the loop to stop and waits until it has returned. Idempotent.
    func stopAndWait() {
        if stopRequested.exchange(true, ordering: .acquiringAndReleasing) { return }
        finished.wait()
    }
}
