public import App
import Dispatch
import Kafka
import Leaderboard
import Logging
import Synchronization

/// The simulated class, resized at runtime by the instructor (`POST
/// /api/admin/simulator`): the running teams are stopped and new ones started. Changes
/// run one at a time on a queue of their own and are answered at once: closing a team's
/// consumers (each leaves its group) takes up to several seconds on the embedded cluster,
/// when a group is still forming.
public final class SimulatedClass: ClassSimulator {
    private struct State {
        var running: TeamSimulator?
        /// The size asked for while a change runs.
        var resizingTo: Int?
        /// Numbers the requests, so a finished change knows whether another is queued.
        var request = 0
        var lastError: String?
    }

    private let context: SimulationContext
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "streamsocial.simulator")

    public init(_ context: SimulationContext) {
        self.context = context
    }

    /// The workshop's teams.
    public var maximum: Int { context.workshop.teams.count }

    public func status() -> SimulatorStatus {
        let state = state.withLock { $0 }
        return SimulatorStatus(teams: state.running?.status() ?? [], maximum: maximum, resizingTo: state.resizingTo, lastError: state.lastError)
    }

    public func resize(to teams: Int) {
        let request = state.withLock { state -> Int in
            state.resizingTo = teams
            state.request += 1
            state.lastError = nil
            return state.request
        }
        queue.async { [self] in
            var failure: String?
            do throws(KafkaError) {
                try resizeNow(to: teams)
            } catch {
                failure = error.message
                context.logger.error("could not start the simulated teams", metadata: ["kafka.error": .string(error.description)])
            }
            state.withLock { state in
                // A later request is still queued: leave its size showing.
                if state.request == request { state.resizingTo = nil }
                state.lastError = failure
            }
        }
    }

    /// Replaces the teams now. Only on the queue: a change running beside another could
    /// leave consumers nobody closes.
    private func resizeNow(to teams: Int) throws(KafkaError) {
        let count = min(max(0, teams), maximum)
        stopRunning()
        guard count > 0 else {
            context.logger.info("simulated teams stopped")
            return
        }
        let simulator = TeamSimulator(workshop: context.workshop, teams: count, producer: context.producer, logger: context.logger)
        state.withLock { $0.running = simulator }
        do throws(KafkaError) {
            try simulator.start(kafka: context.kafka)
        } catch {
            stopRunning()
            throw error
        }
    }

    private func stopRunning() {
        state.withLock { state in
            defer { state.running = nil }
            return state.running
        }?.stop()
    }

    public func stop() {
        queue.sync { stopRunning() }
    }
}
