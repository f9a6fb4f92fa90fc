@testable import Simulation
import Testing

@Suite("A simulated team's behaviour, without Kafka")
struct SimulatedTeamTests {
    typealias Team = TeamSimulator.TeamState

    @Test("a careful team flags each user its rule matches once, with its reason, and nothing else")
    func careful() {
        var team = Team(seed: 7)
        let careful = TeamSimulator.Profile(name: "careful")
        #expect(team.react(to: "a@x.io", matches: true, company: nil, profile: careful, reason: "HIGH_VALUE") == [.action(customer: "a@x.io", reason: "HIGH_VALUE")])
        #expect(team.react(to: "b@x.io", matches: false, company: nil, profile: careful, reason: "HIGH_VALUE").isEmpty)
        #expect(team.processed == 2)
        #expect(team.flagged == 1)
    }

    @Test("the watchlist counts flags per company")
    func watchlist() {
        var team = Team(seed: 7)
        let careful = TeamSimulator.Profile(name: "careful")
        _ = team.react(to: "a@x.io", matches: true, company: "Acme", profile: careful, reason: "R")
        let second = team.react(to: "b@x.io", matches: true, company: "Acme", profile: careful, reason: "R")
        #expect(second == [.action(customer: "b@x.io", reason: "R"), .watchlist(company: "Acme", flagCount: 2)])
    }

    @Test("a sloppy team's mistakes come from its own stream: the same seed, the same mistakes")
    func reproducible() {
        let careless = TeamSimulator.Profile.all[3]
        func run(seed: UInt64) -> [TeamSimulator.Send] {
            var team = Team(seed: seed)
            return (0..<400).flatMap { team.react(to: "u\($0)@x.io", matches: $0 % 2 == 0, company: nil, profile: careless, reason: "R") }
        }
        let first = run(seed: 3)
        #expect(first == run(seed: 3))
        #expect(first != run(seed: 4))
        // 200 matches: every kind of mistake shows up at these rates.
        #expect(first.contains(.action(customer: "u0@x.io", reason: "R")) || first.contains(.action(customer: "u0@x.io", reason: "SOMETHING_ELSE")))
        #expect(first.contains { if case .action(_, "SOMETHING_ELSE") = $0 { true } else { false } })
        #expect(first.contains { if case .action(let customer, _) = $0 { customer.hasPrefix("ghost-") } else { false } })
        #expect(first.count > 200)  // duplicates and false positives on top of the flags
    }
}
