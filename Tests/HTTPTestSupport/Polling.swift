import Foundation

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it
/// held. Blocks the calling thread: for synchronous tests.
public func eventually(timeout: Duration = .seconds(5), _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}

/// The same for async tests: sleeps without blocking a thread of the cooperative pool
/// (2 threads on a 2-core machine), which other tests' continuations need.
public func eventuallyAsync(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}
