@testable import App
import Kafka
import Leaderboard
import Testing

@Suite("The leaderboard service's state machine, without a broker")
struct LeaderboardStateMachineTests {
    @Test("one snapshot writer at a time: a round asked for during a write is owed and handed out after it, with a later number")
    func owedRound() throws {
        // A producer that never connects: the machine only needs a handle to hand out
        // rounds; nothing is sent here.
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: "127.0.0.1:1"), logger: quietLogger)
        defer { producer.close(flushTimeout: .zero) }
        let start = ContinuousClock.now
        var machine = LeaderboardService.StateMachine(workshop: .default, holdUnknownFor: .seconds(3), now: start)
        // No producer yet (the snapshot is still loading): nothing is due, even forced.
        let none1 = machine.snapshotDue(now: start, wallClock: 1000, force: true)
        #expect(none1?.round == nil)
        machine.reading(sources: [], producer: producer, now: start)
        let first = machine.snapshotDue(now: start, wallClock: 1000, force: true)
        #expect(first?.round == 1000)
        // A reset while the first round is being sent: owed, not handed out.
        let during = machine.snapshotDue(now: start, wallClock: 1000, force: true)
        #expect(during?.round == nil)
        let owed = machine.finishedSnapshot(now: start, wallClock: 1000)
        #expect(owed?.round == 1001)
        // Nothing more owed, and nothing changed since: no further round.
        let afterOwed = machine.finishedSnapshot(now: start, wallClock: 1000)
        #expect(afterOwed?.round == nil)
        let quiet = machine.snapshotDue(now: start + .seconds(60), wallClock: 2000)
        #expect(quiet?.round == nil)
        // A change after a quiet minute is due at once; a periodic look during its write
        // owes only a check, which finds nothing new.
        machine.resetSession(at: 2000)
        let third = machine.snapshotDue(now: start + .seconds(60), wallClock: 2000)
        #expect(third?.round == 2000)
        #expect(third?.board.sessionStartedAt == 2000)
        let look = machine.snapshotDue(now: start + .seconds(61), wallClock: 2001)
        #expect(look?.round == nil)
        let check = machine.finishedSnapshot(now: start + .seconds(61), wallClock: 2001)
        #expect(check?.round == nil)
    }
}
