import HTTPServer
import Synchronization

/// Collects a batch's per-item outcomes; answers once all are in.
final class BatchResults: Sendable {
    enum Outcome: Sendable {
        case accepted(SendMessageResponse)
        case rejected(HTTPError)
    }

    private let state: Mutex<(results: [Outcome?], remaining: Int)>
    private let done: @Sendable ([Outcome]) -> Void

    init(count: Int, done: @escaping @Sendable ([Outcome]) -> Void) {
        state = Mutex((Array(repeating: nil, count: count), count))
        self.done = done
    }

    func set(_ index: Int, _ outcome: Outcome) {
        let finished: [Outcome]? = state.withLock { state in
            guard state.results[index] == nil else { return nil }
            state.results[index] = outcome
            state.remaining -= 1
            return state.remaining == 0 ? state.results.compactMap { $0 } : nil
        }
        if let finished { done(finished) }
    }
}
