import Dispatch
import Kafka
import Leaderboard
import Logging
import Synchronization

/// The simulated class, resized at runtime by the instructor (`POST
/// /api/admin/simulator`): the running simulation is stopped and a new one with the
/// asked number of teams started. Changes run one at a time on a queue of their own and
/// are answered 202 at once: closing a team's consumers (each leaves its group) takes up
/// to several seconds on the embedded cluster, when a group is still forming.
final class SimulatorControl: Sendable {
    private let workshop: Workshop
    private let kafka: KafkaConfiguration
    private let producer: KafkaProducer
    private let logger: Logger
    private let current = Mutex<TeamSimulator?>(nil)
    private let queue = DispatchQueue(label: "streamsocial.simulator")
    /// The size asked for while a change runs, the number of the last request, and the
    /// last change's failure.
    private let progress = Mutex<(resizingTo: Int?, request: Int, lastError: String?)>((nil, 0, nil))

    init(workshop: Workshop, kafka: KafkaConfiguration, producer: KafkaProducer, logger: Logger) {
        self.workshop = workshop
        self.kafka = kafka
        self.producer = producer
        self.logger = logger
    }

    /// The most teams that can be simulated: the workshop's.
    var maximum: Int { workshop.teams.count }

    func status() -> SimulatorStatus {
        let (resizingTo, _, lastError) = progress.withLock { $0 }
        return SimulatorStatus(teams: current.withLock { $0 }?.status() ?? [], maximum: maximum, resizingTo: resizingTo, lastError: lastError)
    }

    /// Replaces the running simulation by one of `teams` teams (0 stops it), in the
    /// background; ``status()`` shows the change until it is done, and its failure.
    func resize(to teams: Int) {
        let request = progress.withLock { progress -> Int in
            progress.resizingTo = teams
            progress.request += 1
            progress.lastError = nil
            return progress.request
        }
        queue.async { [self] in
            var failure: String?
            do throws(KafkaError) {
                try resizeNow(to: teams)
            } catch {
                failure = error.message
                logger.error("could not start the simulated teams", metadata: ["kafka.error": .string(error.description)])
            }
            progress.withLock { progress in
                // A later request is still queued: leave its size showing.
                if progress.request == request { progress.resizingTo = nil }
                progress.lastError = failure
            }
        }
    }

    /// Replaces the simulation now. Only on the control's queue: a change running
    /// beside another could leave consumers nobody closes.
    private func resizeNow(to teams: Int) throws(KafkaError) {
        let count = min(max(0, teams), maximum)
        current.withLock { $0 }?.stop()
        current.withLock { $0 = nil }
        guard count > 0 else {
            logger.info("simulated teams stopped")
            return
        }
        let simulator = TeamSimulator(workshop: workshop, teams: count, producer: producer, logger: logger)
        current.withLock { $0 = simulator }
        do throws(KafkaError) {
            try simulator.start(kafka: kafka)
        } catch {
            simulator.stop()
            current.withLock { $0 = nil }
            throw error
        }
    }

    /// Stops the simulation. Blocking; waits for a resize in progress.
    func stop() {
        queue.sync {
            current.withLock { $0 }?.stop()
            current.withLock { $0 = nil }
        }
    }
}
