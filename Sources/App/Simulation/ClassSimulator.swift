public import Kafka
public import Leaderboard
public import Logging

/// The simulated class the instructor resizes (`/api/admin/simulator`), for rehearsals and
/// demos. The app owns one and stops it with its other parts; the `Simulation` target
/// implements it, so the server itself holds no simulated team.
public protocol ClassSimulator: Sendable {
    /// The most teams it can run.
    var maximum: Int { get }
    /// The running teams and the change under way, if any.
    func status() -> SimulatorStatus
    /// Replaces the running teams by `teams` teams (0 stops them), in the background:
    /// ``status()`` shows the change until it is done.
    func resize(to teams: Int)
    /// Stops every team. Blocking: returns once their clients are closed.
    func stop()
}

/// What a simulated class is built from, handed over once the cluster is known.
public struct SimulationContext: Sendable {
    public let workshop: Workshop
    /// How its clients reach the cluster the server uses.
    public let kafka: KafkaConfiguration
    /// The server's producer, shared (its teams' records need no client of their own).
    public let producer: KafkaProducer
    public let logger: Logger
}

/// The simulator of a server built without one: no teams to run.
struct NoClassSimulator: ClassSimulator {
    var maximum: Int { 0 }
    func status() -> SimulatorStatus { SimulatorStatus(teams: [], maximum: 0) }
    func resize(to teams: Int) {}
    func stop() {}
}
