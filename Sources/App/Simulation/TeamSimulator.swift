import ServerSupport
import Dispatch
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

    private final class TeamRun: Sendable {
        let team: Workshop.Team
        let profile: Profile
        let counters = Mutex<(processed: Int64, flagged: Int64, random: UInt64)>((0, 0, 0))
        /// Flags per company, for the watchlist variant of the last step.
        let companies = Mutex<[String: Int64]>([:])

        init(team: Workshop.Team, profile: Profile) {
            self.team = team
            self.profile = profile
        }
    }

    private let workshop: Workshop
    private let producer: KafkaProducer
    private let consumers: Mutex<[KafkaConsumer]> = Mutex([])
    private let statsThread: Mutex<Worker?> = Mutex(nil)
    private let runs: [TeamRun]
    private let logger: Logger

    init(workshop: Workshop, teams count: Int, producer: KafkaProducer, logger: Logger) {
        self.workshop = workshop
        self.producer = producer
        self.logger = logger
        runs = workshop.teams.prefix(max(0, count)).enumerated().map { index, team in
            let run = TeamRun(team: team, profile: Profile.all[index % Profile.all.count])
            run.counters.withLock { $0.random = UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15 }
            return run
        }
    }

    /// Starts every team's instances and the stats publisher.
    /// - Throws: ``KafkaError`` when a client cannot be created.
    func start(kafka: KafkaConfiguration) throws(KafkaError) {
        for (index, run) in runs.enumerated() {
            for _ in 0..<Self.instances(index) {
                var settings = KafkaConsumerConfiguration(mode: .group(id: run.team.name, topics: [workshop.topics.newUsers]))
                settings.sessionTimeout = .seconds(6)
                let consumer = try KafkaConsumer(configuration: kafka, consumer: settings, logger: logger)
                consumer.run { [self] event in
                    if case .record(let record) = event { handle(record, run: run) }
                }
                consumers.withLock { $0.append(consumer) }
            }
        }
        let thread = Worker(name: "simulated-stats", every: .seconds(5)) { [self] _ in publishStats() }
        statsThread.withLock { $0 = thread }
        logger.info("simulated teams started", metadata: ["teams": .stringConvertible(runs.count)])
    }

    /// Each simulated team: its profile, instances and what it processed and flagged.
    func status() -> [SimulatedTeam] {
        runs.enumerated().map { index, run in
            let counters = run.counters.withLock { $0 }
            return SimulatedTeam(team: run.team.name, profile: run.profile.name, instances: Self.instances(index), processed: counters.processed, flagged: counters.flagged)
        }
    }

    /// One to three instances, varying by team.
    private static func instances(_ index: Int) -> Int { 1 + index % 3 }

    /// Closes every instance (each leaves its group) and stops the stats. Blocking.
    func stop() {
        statsThread.withLock { $0 }?.stop()
        // In parallel: a consumer closing while its group still forms waits for the join
        // (3 s on the embedded cluster); thirty of them one after another took > 7 s.
        let closing = DispatchGroup()
        for consumer in consumers.withLock({ $0 }) {
            DispatchQueue.global().async(group: closing) { consumer.close() }
        }
        closing.wait()
    }

    /// One `new_users` record seen by one of the team's instances.
    private func handle(_ record: KafkaRecord, run: TeamRun) {
        guard let user = NewUser.decode(record.value), let email = user.email else { return }
        let matches = workshop.matches(user, team: run.team)
        let roll = { () -> Double in
            run.counters.withLock { counters in
                counters.random = counters.random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Double(counters.random >> 11) / Double(1 << 53)
            }
        }
        run.counters.withLock { $0.processed += 1 }
        let p = run.profile
        if matches {
            send(customer: email, team: run.team, reason: roll() < p.wrongReason ? "SOMETHING_ELSE" : run.team.reason)
            run.counters.withLock { $0.flagged += 1 }
            if workshop.finalStep != .teamStats, case .string(let company) = user.fields["company_name"], !company.isEmpty {
                publishWatchlist(company: company, run: run)
            }
            if roll() < p.duplicate { send(customer: email, team: run.team, reason: run.team.reason) }
        } else if roll() < p.falsePositive / 5 {
            send(customer: email, team: run.team, reason: run.team.reason)
        }
        if roll() < p.ghost / 5 {
            send(customer: "ghost-\(UInt32.random(in: 0...UInt32.max))@nowhere.example", team: run.team, reason: run.team.reason)
        }
    }

    private func send(customer: String, team: Workshop.Team, reason: String) {
        let value = JSONText.object([("customer", .string(customer)), ("reason", .string(reason)), ("team", .string(team.name)), ("type", .string(team.type))])
        producer.send(topic: workshop.topics.actions, key: nil, value: value) { _ in }
    }

    /// The watchlist variant: `{"team","company","flag_count"}` keyed by the company on
    /// every flag. Teams that never key their stats leave the key out here too; careless
    /// ones key by their team name, the mistake the board's key check is there to catch.
    private func publishWatchlist(company: String, run: TeamRun) {
        let count = run.companies.withLock { companies -> Int64 in
            companies[company, default: 0] += 1
            return companies[company, default: 0]
        }
        let value = JSONText.object([("company", .string(company)), ("flag_count", .integer(count)), ("team", .string(run.team.name))])
        let key: String? = run.profile.keysStats ? company : (run.profile.name == "careless" ? run.team.name : nil)
        producer.send(topic: workshop.topics.watchlist, key: key.map { Array($0.utf8) }, value: value) { _ in }
    }

    private func publishStats() {
        guard workshop.finalStep != .watchlist else { return }
        for run in runs {
            let (processed, flagged, _) = run.counters.withLock { $0 }
            guard processed > 0 else { continue }
            let value = JSONText.object([("flagged", .integer(flagged)), ("processed", .integer(processed)), ("team", .string(run.team.name))])
            producer.send(topic: workshop.topics.teamStats, key: run.profile.keysStats ? Array(run.team.name.utf8) : nil, value: value) { _ in }
        }
    }
}
