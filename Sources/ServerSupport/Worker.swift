import Dispatch
import Foundation
import Synchronization

/// A thread of the server's own that runs one job until stopped: the one worker type of
/// the package, for Kafka's polling loops, the HTTP service loop and every periodic job.
///
/// Blocking work (librdkafka's polls and admin calls, `lws_service`) must not run on
/// Swift's cooperative pool, and each job gets its own thread so that a slow one (an
/// admin call waiting out its timeout on a cluster that is away) delays no other.
///
/// `body` runs, then again after `interval` (`.zero`: at once), until ``stop()``. A body
/// that loops by itself checks ``isStopping`` and returns soon after it turns true (poll
/// with a short timeout).
public final class Worker: Sendable {
    /// The thread's name, as `top -H` and debuggers show it.
    public let name: String
    private let stopRequested = Atomic<Bool>(false)
    /// Signalled by ``stop()``, so a job sleeping out its interval wakes at once.
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts `body` on a new thread named `name`.
    /// - Parameter interval: the time from one run's start to the next; a run that takes
    ///   longer is followed at once by the next, without a burst to catch up.
    public init(name: String, every interval: Duration = .zero, body: @escaping @Sendable (Worker) -> Void) {
        self.name = name
        let started = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            // Linux names only the running thread, and only up to 15 bytes (`top -H`,
            // `perf`, `/proc/<pid>/task/*/comm`); a longer name would be refused whole.
            // Foundation applies a name only to the thread it has recorded as this one,
            // which it does once `start()` returns: named any sooner, the thread kept its
            // creator's name (a few times in a thousand, under load).
            started.wait()
            Thread.current.name = String(decoding: name.utf8.prefix(15), as: UTF8.self)
            let clock = ContinuousClock()
            var next = clock.now
            while !isStopping {
                body(self)
                guard interval > .zero else { continue }
                next += interval
                let now = clock.now
                if now < next {
                    _ = wake.wait(timeout: .now() + .nanoseconds(Int(clamping: (next - now).wholeNanoseconds)))
                } else {
                    next = now  // fell behind: no burst
                }
            }
            finished.signal()
        }
        thread.start()
        started.signal()
    }

    /// Runs `body` once on a thread of its own: for a job that loops by itself (checking
    /// ``isStopping``) or ends by itself.
    public static func once(name: String, body: @escaping @Sendable (Worker) -> Void) -> Worker {
        Worker(name: name) { worker in
            body(worker)
            worker.requestStop()
        }
    }

    /// Sleeps for `duration` inside the job, or less: a stop request wakes it. For a job
    /// that waits between retries of its own.
    public func sleep(for duration: Duration) {
        guard !isStopping, duration > .zero else { return }
        if wake.wait(timeout: .now() + .nanoseconds(Int(clamping: duration.wholeNanoseconds))) == .success {
            wake.signal()  // leave the wake-up for the loop's own wait
        }
    }

    /// Whether ``stop()`` was called (or a one-shot job finished).
    public var isStopping: Bool { stopRequested.load(ordering: .acquiring) }

    /// Asks the job to stop without waiting for it.
    public func requestStop() {
        if !stopRequested.exchange(true, ordering: .acquiringAndReleasing) { wake.signal() }
    }

    /// Asks the job to stop and waits until its current run returned. Idempotent; safe
    /// from several threads (each waits), but never from the job's own thread.
    public func stop() {
        requestStop()
        finished.wait()
        finished.signal()  // let any other waiter through too
    }
}
