import Foundation
import Logging
import ServerSupport

/// SIGINT and SIGTERM, taken synchronously by the main thread with `sigwait`.
enum TerminationSignals {
    private static var set: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        return set
    }

    /// Blocks both signals in the calling thread and the threads it starts later.
    static func block() {
        var signals = set
        pthread_sigmask(SIG_BLOCK, &signals, nil)
    }

    /// Waits for SIGINT or SIGTERM; returns its number.
    static func wait() -> Int32 {
        var signals = set
        var received: Int32 = 0
        while sigwait(&signals, &received) != 0 {}
        return received
    }

    /// Bounds a stop: exits with status 1 when `timeout` passes, or at once on a second
    /// SIGINT/SIGTERM. Stopping flushes the producer and closes consumers, which can wait
    /// on a cluster that is gone; an operator's SIGTERM must still end the process.
    static func exitIfStopHangs(after timeout: Duration, logger: Logger) {
        _ = Worker.once(name: "stop-watchdog") { _ in
            let deadline = ContinuousClock.now + timeout
            var signals = set
            var pending = sigset_t()
            while ContinuousClock.now < deadline {
                sigpending(&pending)
                if sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1 {
                    var received: Int32 = 0
                    sigwait(&signals, &received)
                    logger.warning("second signal: exiting without a clean stop", metadata: ["signal": .stringConvertible(received)])
                    _exit(1)
                }
                usleep(50_000)
            }
            logger.error("stop did not finish in time: exiting", metadata: ["timeout": .stringConvertible(timeout)])
            _exit(1)
        }
    }
}
