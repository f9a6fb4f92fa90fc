import Foundation
import Synchronization

/// Keeps a C handle alive while calls use it: ``close(_:)`` marks it closed, waits for
/// the calls in progress to finish, then runs the teardown once. Calls made after that
/// are refused instead of touching a destroyed handle.
final class UseGuard: Sendable {
    private struct State {
        var closed = false
        var active = 0
    }

    private let state = Mutex(State())

    /// Runs `body` unless closed; returns nil when closed.
    func use<R>(_ body: () throws(KafkaError) -> R) throws(KafkaError) -> R? {
        let entered = state.withLock { state in
            guard !state.closed else { return false }
            state.active += 1
            return true
        }
        guard entered else { return nil }
        defer { state.withLock { $0.active -= 1 } }
        return try body()
    }

    /// Marks closed, waits until no call is in progress, then runs `teardown`. Only the
    /// first call runs it; returns whether this one did.
    @discardableResult
    func close(_ teardown: () -> Void) -> Bool {
        let first = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return false }
        while state.withLock({ $0.active }) > 0 { usleep(1000) }
        teardown()
        return true
    }

    var isClosed: Bool { state.withLock { $0.closed } }
}
