import App
import Dispatch
import ServerSupport
import FastJSON
import Foundation
import Kafka
import Leaderboard
import Logging
import Synchronization

/// Simulated workshop teams, as real Kafka clients, so the board can be rehearsed,
/// demoed and tested: each team consumes `new_users` in its own group (team name) with
/// one to three instances, flags the users its rule matches to `actions`, and publishes
/// `team_stats` every few seconds. Teams differ: some are careful, some sloppy (wrong
/// reasons, duplicates, ghosts, false positives), some never key their stats.
final class TeamSimulator: Sendable {
    /// How a simulated team behaves.
    struct Profile: Sendable {
        var name: String
        /// Chances per flagged user.
        var wrongReason = 0.0
        var duplicate = 0.0
        var ghost = 0.0
        var falsePositive = 0.0
        var keysStats = true

        static let all: [Profile] = [
            Profile(name: "careful"),
            Profile(name: "sloppy", wrongReason: 0.08, duplicate: 0.05, ghost: 0.03, falsePositive: 0.04),
            Profile(name: "unkeyed", wrongReason: 0.02, keysStats: false),
            Profile(name: "careless", wrongReason: 0.15, duplicate: 0.1, ghost: 0.05, falsePositive: 0.1, keysStats: false),
        ]
    }

    /// One team's counters and its random stream: what it did so far decides what it
    /// does next.
    struct TeamState: Sendable {
        var processed: Int64 = 0
        var flagged: Int64 = 0
        var random: UInt64
        /// Flags per company, for the watchlist variant of the last step.
        var companies: [String: Int64] = [:]

        init(seed: UInt64) { random = seed }

        /// A number in [0, 1), the next of the team's own stream (reproducible runs).
        mutating func roll() -> Double {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(random >> 11) / Double(1 << 53)
        }

        /// The records the team sends for one user its instance read.
        mutating func react(to email: String, matches: Bool, company: String?, profile: Profile, reason: String) -> [Send] {
            processed += 1
            var sends: [Send] = []
            if matches {
                sends.append(.action(customer: email, reason: roll() < profile.wrongReason ? "SOMETHING_ELSE" : reason))
                flagged += 1
                if let company, !company.isEmpty {
                    companies[company, default: 0] += 1
                    sends.append(.watchlist(company: company, flagCount: companies[company, default: 0]))
                }
                if roll() < profile.duplicate { sends.append(.action(customer: email, reason: reason)) }
            } else if roll() < profile.falsePositive / 5 {
                sends.append(.action(customer: email, reason: reason))
            }
            if roll() < profile.ghost / 5 {
                sends.append(.action(customer: "ghost-\(UInt32(truncatingIfNeeded: random >> 32))@nowhere.example", reason: reason))
            }
            return sends
        }
    }

    /// A record a team sends.
    enum Send: Equatable {
        case action(customer: String, reason: String)
        case watchlist(company: String, flagCount: Int64)
    }

    private struct State {
        var teams: [TeamState]
        var consumers: [KafkaConsumer] = []
        /// Partitions each instance holds, in the order of `consumers`.
        var held: [Set<KafkaTopicPartition>] = []
        var statsWorker: Worker?
    }

    private let workshop: Workshop
    private let producer: KafkaProducer
    private let teams: [(team: Workshop.Team, profile: Profile)]
    private let state: Mutex<State>
    private let logger: Logger

    init(workshop: Workshop, teams count: Int, producer: KafkaProducer, logger: Logger) {
        self.workshop = workshop
        self.producer = producer
        self.logger = logger
        teams = workshop.teams.prefix(max(0, count)).enumerated().map { index, team in
            (team, Profile.all[index % Profile.all.count])
        }
        state = Mutex(State(teams: teams.indices.map { TeamState(seed: UInt64($0 + 1) &* 0x9E37_79B9_7F4A_7C15) }))
    }

    /// Starts every team's instances and the stats publisher.
    /// - Throws: ``KafkaError`` when a client cannot be created.
    func start(kafka: KafkaConfiguration) throws(KafkaError) {
        for (index, team) in teams.enumerated() {
            for instance in 1...Self.instances(index) {
                var settings = KafkaConsumerConfiguration(mode: .group(id: team.team.name, topics: [workshop.topics.newUsers]))
                settings.sessionTimeout = .seconds(6)
                // Each instance its own client.id, as on students' laptops: the gateway's
                // view of who is connected tells them apart.
                var client = kafka
                client.clientID = "\(team.team.name)-instance-\(instance)"
                let consumer = try KafkaConsumer(configuration: client, consumer: settings, logger: logger)
                let slot = state.withLock { state in
                    state.consumers.append(consumer)
                    state.held.append([])
                    return state.held.count - 1
                }
                consumer.run { [self] event in
                    switch event {
                    case .record(let record): handle(record, team: index)
                    case .assigned(let partitions): state.withLock { $0.held[slot].formUnion(partitions) }
                    // Also while closing, on the closing thread.
                    case .revoked(let partitions): state.withLock { $0.held[slot].subtract(partitions) }
                    default: break
                    }
                }
            }
        }
        let worker = Worker(name: "simulated-stats", every: .seconds(5)) { [self] _ in publishStats() }
        state.withLock { $0.statsWorker = worker }
        logger.info("simulated teams started", metadata: ["teams": .stringConvertible(teams.count)])
    }

    /// Each simulated team: its profile, instances and what it processed and flagged.
    func status() -> [SimulatedTeam] {
        let counters = state.withLock { $0.teams }
        return zip(teams, counters).enumerated().map { index, pair in
            SimulatedTeam(team: pair.0.team.name, profile: pair.0.profile.name, instances: Self.instances(index), processed: pair.1.processed, flagged: pair.1.flagged)
        }
    }

    /// Whether every instance holds a partition: each team's group has formed with all
    /// its instances (a group that is still rebalancing has revoked them). With fewer
    /// partitions than a team has instances, this stays false.
    var everyInstanceHoldsPartitions: Bool {
        state.withLock { state in !state.held.isEmpty && state.held.allSatisfy { !$0.isEmpty } }
    }

    /// One to three instances, varying by team.
    private static func instances(_ index: Int) -> Int { 1 + index % 3 }

    /// Closes every instance (each leaves its group) and stops the stats. Blocking.
    func stop() {
        let (consumers, worker) = state.withLock { state in
            defer { (state.consumers, state.statsWorker) = ([], nil) }
            return (state.consumers, state.statsWorker)
        }
        worker?.stop()
        // Two rounds, each in parallel (a consumer closing while its group still forms
        // waits for the join, 3 s on the embedded cluster; thirty one after another took
        // > 7 s). First every instance commits while its group is still whole, then all
        // leave: closed in one round, every instance after a team's first committed
        // during the rebalance the first one's leave started, and failed.
        for round in [KafkaConsumer.stopReading, KafkaConsumer.close] {
            let group = DispatchGroup()
            for consumer in consumers {
                DispatchQueue.global().async(group: group) { round(consumer)() }
            }
            group.wait()
        }
    }

    /// One `new_users` record seen by one of the team's instances.
    private func handle(_ record: KafkaRecord, team index: Int) {
        guard let user = NewUser.decode(record.value), let email = user.email else { return }
        let (team, profile) = teams[index]
        var company: String?
        if workshop.finalStep != .teamStats, case .string(let name) = user.fields["company_name"] { company = name }
        let matches = workshop.matches(user, team: team)
        let sends = state.withLock { $0.teams[index].react(to: email, matches: matches, company: company, profile: profile, reason: team.reason) }
        for send in sends {
            switch send {
            case .action(let customer, let reason): self.send(customer: customer, team: team, reason: reason)
            case .watchlist(let company, let count): publishWatchlist(company: company, count: count, team: team, profile: profile)
            }
        }
    }

    private func send(customer: String, team: Workshop.Team, reason: String) {
        let value = JSONWriter.object([("customer", .string(customer)), ("reason", .string(reason)), ("team", .string(team.name)), ("type", .string(team.type))])
        producer.send(topic: workshop.topics.actions, key: nil, value: value) { _ in }
    }

    /// The watchlist variant: `{"team","company","flag_count"}` keyed by the company on
    /// every flag. Teams that never key their stats leave the key out here too; careless
    /// ones key by their team name, the mistake the board's key check is there to catch.
    private func publishWatchlist(company: String, count: Int64, team: Workshop.Team, profile: Profile) {
        let value = JSONWriter.object([("company", .string(company)), ("flag_count", .integer(count)), ("team", .string(team.name))])
        let key: String? = profile.keysStats ? company : (profile.name == "careless" ? team.name : nil)
        producer.send(topic: workshop.topics.watchlist, key: key.map { Array($0.utf8) }, value: value) { _ in }
    }

    private func publishStats() {
        guard workshop.finalStep != .watchlist else { return }
        let counters = state.withLock { $0.teams }
        for ((team, profile), counter) in zip(teams, counters) where counter.processed > 0 {
            let value = JSONWriter.object([("flagged", .integer(counter.flagged)), ("processed", .integer(counter.processed)), ("team", .string(team.name))])
            producer.send(topic: workshop.topics.teamStats, key: profile.keysStats ? Array(team.name.utf8) : nil, value: value) { _ in }
        }
    }
}
