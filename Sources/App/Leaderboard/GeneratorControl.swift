import Leaderboard
import Synchronization

/// The fake-user generator's settings and state, changed at runtime by the instructor
/// and read by the `user-generator` job every 100 ms.
final class GeneratorControl: Sendable {
    struct Settings: Sendable, Codable, Equatable {
        var rate: Double
        var paused: Bool
        var produced: Int
    }

    private struct State {
        var settings: Settings
        var users: UserGenerator
        /// The fraction of a user owed from earlier steps.
        var owed = 0.0
    }

    private let state: Mutex<State>

    init(rate: Double, seed: UInt64) {
        state = Mutex(State(settings: Settings(rate: rate, paused: rate <= 0, produced: 0), users: UserGenerator(seed: seed)))
    }

    var settings: Settings { state.withLock { $0.settings } }

    /// Changes the rate and/or pause; returns the settings now.
    func change(rate: Double?, paused: Bool?) -> Settings {
        state.withLock { state in
            if let rate { state.settings.rate = rate }
            if let paused { state.settings.paused = paused }
            return state.settings
        }
    }

    /// The users to produce for a step of `step` seconds at the current rate.
    func nextUsers(step: Double) -> [[UInt8]] {
        state.withLock { state in
            guard !state.settings.paused, state.settings.rate > 0 else { return [] }
            state.owed += state.settings.rate * step
            let count = Int(state.owed)
            state.owed -= Double(count)
            state.settings.produced += count
            return (0..<count).map { _ in state.users.next() }
        }
    }
}
