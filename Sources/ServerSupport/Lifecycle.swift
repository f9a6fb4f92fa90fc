import Synchronization

/// The server's parts in the order they started, stopped in the reverse order: one
/// declared order instead of a stop sequence written by hand beside the start.
///
/// A part is registered as soon as it started, so a start that fails halfway stops
/// exactly what had started. Workers are first all asked to stop (each is sleeping or
/// blocked in a call with its own timeout, and those waits then overlap), then each part
/// is stopped and waited for, newest first.
///
/// Chosen over swift-service-lifecycle: every part here is a blocking thread or a C
/// client, not an async `Service`, and the order is a list, not a tree; a dependency
/// would cost every build for a twenty-line type.
public final class Lifecycle: Sendable {
    private struct Part {
        var name: String
        var signal: (@Sendable () -> Void)?
        var stop: @Sendable () -> Void
    }

    private struct State {
        var parts: [Part] = []
        var stopped = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Registers a part that has started; `stop` stops it and returns once it has.
    public func started(_ name: String, stop: @escaping @Sendable () -> Void) {
        state.withLock { $0.parts.append(Part(name: name, signal: nil, stop: stop)) }
    }

    /// Registers a worker that has started.
    @discardableResult
    public func started(_ worker: Worker) -> Worker {
        state.withLock { $0.parts.append(Part(name: worker.name, signal: { worker.requestStop() }, stop: { worker.stop() })) }
        return worker
    }

    /// The parts' names in start order.
    public var names: [String] { state.withLock { $0.parts.map(\.name) } }

    /// Stops every part, newest first, once; later calls return at once.
    /// - Parameter each: told each part's name and how long its stop took.
    public func stop(each: (String, Duration) -> Void = { _, _ in }) {
        let all = state.withLock { state -> [Part]? in
            guard !state.stopped else { return nil }
            state.stopped = true
            return state.parts
        }
        guard let all else { return }
        for part in all { part.signal?() }
        let clock = ContinuousClock()
        for part in all.reversed() {
            let start = clock.now
            part.stop()
            each(part.name, clock.now - start)
        }
    }
}
