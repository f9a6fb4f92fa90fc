import Foundation
import Leaderboard
import Testing

@Suite("Held actions, the snapshot schedule and the board's changelog, without Kafka")
struct ChangelogTests {
    static func action(_ customer: String) -> [UInt8] {
        json(["customer": customer, "type": "CONTACT_CUSTOMER", "reason": "UPGRADE_FREE", "team": "team-15"])
    }

    @Test("an action waits for its user: released when the user is known, after holdFor, or forced, in arrival order")
    func heldActions() {
        let start = ContinuousClock.now
        var held = HeldActions(holdFor: .seconds(3))
        #expect(HeldActions.customer(in: Self.action("a@x.org")) == "a@x.org")
        #expect(HeldActions.customer(in: json(["customer": ""])) == nil)
        #expect(HeldActions.customer(in: Array("not json".utf8)) == nil)
        held.hold(Self.action("a@x.org"), time: 10, customer: "a@x.org", now: start)
        held.hold(Self.action("b@x.org"), time: 11, customer: "b@x.org", now: start + .seconds(1))
        held.hold(Self.action("c@x.org"), time: 12, customer: "c@x.org", now: start + .seconds(2))

        // Nobody known, 2.9 s after the first: nothing goes.
        #expect(held.release(now: start + .milliseconds(2900)) { _ in false }.isEmpty)
        // b's user arrived.
        #expect(held.release(now: start + .milliseconds(2900)) { $0 == "b@x.org" }.map(\.time) == [11])
        // 3 s after a started waiting, a goes (to be judged a ghost); c waits on.
        #expect(held.release(now: start + .seconds(3)) { _ in false }.map(\.time) == [10])
        #expect(held.waiting.map(\.time) == [12])
        // A snapshot's held actions wait again from the restore.
        var restored = HeldActions(holdFor: .seconds(3))
        restored.restore(held.waiting, now: start + .seconds(10))
        #expect(restored.entries.map(\.customer) == ["c@x.org"])
        #expect(restored.release(now: start + .seconds(12)) { _ in false }.isEmpty)
        #expect(restored.release(now: start + .seconds(12), force: true) { _ in false }.map(\.time) == [12])
        #expect(restored.isEmpty)
    }

    @Test("a change is written 5 s after the last round (1 s after an unlock), at once when forced; rounds strictly increase")
    func schedule() {
        let start = ContinuousClock.now
        var schedule = SnapshotSchedule(now: start)
        // Nothing changed: nothing due, however long.
        #expect(schedule.due(now: start + .seconds(60), wallClock: 900) == nil)
        // A change after a quiet minute: the last round is long past, written at once.
        schedule.changed()
        #expect(schedule.due(now: start + .seconds(60), wallClock: 900) == 900)
        schedule.changed()
        #expect(schedule.due(now: start + .milliseconds(64_900), wallClock: 1000) == nil)
        #expect(schedule.due(now: start + .seconds(65), wallClock: 1000) == 1000)
        schedule.changed(unlock: true)
        #expect(schedule.due(now: start + .milliseconds(65_900), wallClock: 2000) == nil)
        #expect(schedule.due(now: start + .seconds(66), wallClock: 2000) == 2000)
        // The wall clock stepped back: the round still increases.
        #expect(schedule.due(now: start + .seconds(66), wallClock: 5, force: true) == 2001)
        #expect(schedule.lastRound == 2001)
    }

    static func board() -> BoardSnapshot {
        var team = TeamState()
        team.valid = 3
        team.streak = 2
        team.bestStreak = 3
        return BoardSnapshot(teams: ["team-1": team, "team-2": TeamState()], unknownTeamActions: 4, latestTeamStats: [:], latestWatchlist: [:], sessionStartedAt: 500)
    }

    static func latest(_ records: [(key: String, value: [UInt8])]) -> [String: BoardChangelog.Record] {
        var latest: [String: BoardChangelog.Record] = [:]
        for record in records {
            if let decoded = BoardChangelog.decode(record.value) { latest[record.key] = decoded }
        }
        return latest
    }

    @Test("a round's records are the teams then _board; loading them gives the board, offsets and held actions back")
    func roundTrip() throws {
        let offsets = [BoardChangelog.Offset(topic: "actions", partition: 1, offset: 7), .init(topic: "actions", partition: 0, offset: 3)]
        let records = BoardChangelog.records(round: 1000, board: Self.board(), offsets: offsets, held: [(Self.action("a@x.org"), 99)])
        #expect(records.map(\.key) == ["team-1", "team-2", "_board"])
        guard case .restored(let restored) = BoardChangelog.latest(Self.latest(records), now: 2000) else {
            Issue.record("the round did not load")
            return
        }
        #expect(restored.board == Self.board())
        #expect(restored.round == 1000)
        #expect(restored.offsets == offsets.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) })
        #expect(restored.held.map(\.time) == [99])
        #expect(restored.held.first?.value == Self.action("a@x.org"))
    }

    @Test("a round cut short is skipped: team records of a newer round without its _board are not mixed in")
    func roundSelection() throws {
        let old = BoardChangelog.records(round: 1000, board: Self.board(), offsets: [], held: [])
        var newer = Self.board()
        newer.teams["team-1"]?.valid = 9
        // Round 2000's team-1 record arrived, its _board record did not.
        let cut = BoardChangelog.records(round: 2000, board: newer, offsets: [], held: []).filter { $0.key == "team-1" }
        guard case .restored(let restored) = BoardChangelog.latest(Self.latest(old + cut), now: 3000) else {
            Issue.record("the complete round did not load")
            return
        }
        #expect(restored.round == 1000)
        #expect(restored.board.teams["team-1"] == nil)
        #expect(restored.board.teams["team-2"] == TeamState())
        // No _board record at all, or not ours: nothing to load.
        guard case .none = BoardChangelog.latest(Self.latest(cut), now: 3000) else {
            Issue.record("a round without _board loaded")
            return
        }
        #expect(BoardChangelog.decode(Array("{\"round\": \"x\"}".utf8)) == nil)
    }

    @Test("a forged round (a count out of range, a session start in the future) is rejected with the reason")
    func forgedRound() {
        var forged = Self.board()
        forged.teams["team-1"]?.valid = Int.max
        let records = BoardChangelog.records(round: 1000, board: forged, offsets: [], held: [])
        guard case .rejected(let reason, let round) = BoardChangelog.latest(Self.latest(records), now: 2000) else {
            Issue.record("a forged round loaded")
            return
        }
        #expect(reason.contains("team-1"))
        #expect(round == 1000)
    }
}
