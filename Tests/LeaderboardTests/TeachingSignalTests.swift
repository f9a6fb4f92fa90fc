import FastJSON
import Foundation
import Leaderboard
import Testing

/// The lessons on a team's row, one rule at a time, from records as students write them.
@Suite("Teaching signals")
struct TeachingSignalTests {
    /// A board knowing `count` users team-15 must flag (pack free): u0@x.org …
    func board(freeUsers count: Int = 10) -> LeaderboardState {
        var state = LeaderboardState(workshop: .default)
        for index in 0..<count {
            state.userSeen(json(user(["email": "u\(index)@x.org", "pack": "free"])), at: 1000)
        }
        return state
    }

    func valid(_ state: inout LeaderboardState, _ index: Int, at time: Int64) {
        let outcome = state.action(json(["customer": "u\(index)@x.org", "type": "CONTACT_CUSTOMER", "reason": "UPGRADE_FREE", "team": "team-15"]), at: time)
        #expect(outcome == .valid(team: "team-15"))
    }

    func stats(_ processed: Int, _ flagged: Int) -> [UInt8] {
        json(["team": "team-15", "processed": processed, "flagged": flagged])
    }

    func kinds(_ state: LeaderboardState, now: Int64) -> [TeachingSignal.Kind] {
        state.signals(team: "team-15", now: now).map(\.kind)
    }

    @Test("a missing key shows while the latest record has none, with the tutorial's question; a refused record counts too")
    func missingKey() throws {
        var state = board()
        valid(&state, 0, at: 2000)
        state.teamStats(key: nil, value: stats(1, 1), at: 2001)
        let signal = try #require(state.signals(team: "team-15", now: 2002).first)
        #expect(signal.kind == .missingKey)
        #expect(signal.topic == "team_stats")
        #expect(signal.question == "What happens if you send a stats message without a key?")
        #expect(signal.sentence.contains("a real Kafka would refuse it"))
        // The gateway refused one more: counted, said so.
        state.keylessRefused(topic: "team_stats", value: stats(2, 1), at: 2003)
        #expect(state.teams["team-15"]?.stats.refused == 1)
        let refused = try #require(state.signals(team: "team-15", now: 2004).first)
        #expect(refused.sentence.hasPrefix("2 team_stats records had no key"))
        #expect(refused.sentence.contains("The gateway refused 1"))
        // Fixed: the latest record is keyed right, the signal goes; the counts stay.
        state.teamStats(key: "team-15", value: stats(3, 1), at: 2005)
        #expect(kinds(state, now: 2006).isEmpty)
        #expect(state.teams["team-15"]?.stats.missingKey == 1)
        // A refusal naming no team of the workshop, or another topic, changes nothing.
        state.keylessRefused(topic: "team_stats", value: json(["team": "team-99"]), at: 2007)
        state.keylessRefused(topic: "actions", value: stats(4, 1), at: 2008)
        #expect(state.teams["team-15"]?.stats.refused == 1)
    }

    @Test("the latest attempt goes by timestamp: a refusal arriving after a later keyed record does not bring the signal back")
    func latestByTime() {
        var state = board()
        valid(&state, 0, at: 2000)
        state.teamStats(key: "team-15", value: stats(2, 1), at: 3000)
        state.keylessRefused(topic: "team_stats", value: stats(1, 1), at: 2500)  // sent before, told after
        #expect(state.teams["team-15"]?.stats.lastKey == .correct)
        #expect(kinds(state, now: 3001).isEmpty)
        state.keylessRefused(topic: "team_stats", value: stats(3, 1), at: 3500)
        #expect(kinds(state, now: 3501) == [.missingKey])
    }

    @Test("a wrong key on team_stats or watchlist, each with its question")
    func wrongKey() {
        var state = board()
        valid(&state, 0, at: 2000)
        state.teamStats(key: "team15", value: stats(1, 1), at: 2001)
        state.watchlist(key: "team-15", value: json(["team": "team-15", "company": "Acme", "flag_count": 1]), at: 2002)
        let signals = state.signals(team: "team-15", now: 2003)
        #expect(signals.map(\.kind) == [.wrongKey, .wrongKey])
        #expect(signals.map(\.topic) == ["team_stats", "watchlist"])
        #expect(signals.first?.question == "Why must the message key match the team name in the value?")
        #expect(signals.last?.question == "Why must the message key match the company name in the value?")
    }

    @Test("two instances sharing a key: processed goes down again and again; one restart is no conflict")
    func writerConflict() throws {
        var state = board()
        valid(&state, 0, at: 2000)
        // One instance restarts: one decrease.
        state.teamStats(key: "team-15", value: stats(50, 1), at: 3000)
        state.teamStats(key: "team-15", value: stats(1, 1), at: 3001)
        #expect(state.teams["team-15"]?.stats.decreases == 1)
        #expect(!kinds(state, now: 3002).contains(.writerConflict))
        // Two instances at 100 and 10 processed, alternating.
        for step in 0..<4 {
            state.teamStats(key: "team-15", value: stats(100 + step, 1), at: 4000 + Int64(step) * 2)
            state.teamStats(key: "team-15", value: stats(10 + step, 1), at: 4001 + Int64(step) * 2)
        }
        #expect(state.teams["team-15"]?.stats.decreases == 5)
        let signal = try #require(state.signals(team: "team-15", now: 4010).first { $0.kind == .writerConflict })
        #expect(signal.question == "What happens if two team members run the same code with the same team name?")
        #expect(signal.sentence.contains("5 times"))
        // Two minutes after the last decrease (one instance stopped), it is history.
        #expect(!kinds(state, now: 4007 + TeachingSignal.recentMilliseconds + 1).contains(.writerConflict))
        // Another team writing under team-15's key is not team-15 conflicting with itself.
        let before = state.teams["team-15"]?.stats.decreases
        state.teamStats(key: "team-15", value: json(["team": "team-14", "processed": 0, "flagged": 0]), at: 5000)
        state.teamStats(key: "team-15", value: stats(0, 0), at: 5001)
        #expect(state.teams["team-15"]?.stats.decreases == before)
    }

    @Test("a company's flag_count going down under its key is a writer conflict on the watchlist")
    func watchlistConflict() {
        var state = board()
        valid(&state, 0, at: 2000)
        for step in 0..<3 {
            state.watchlist(key: "Acme", value: json(["team": "team-15", "company": "Acme", "flag_count": 5 + step]), at: 3000 + Int64(step) * 2)
            state.watchlist(key: "Acme", value: json(["team": "team-15", "company": "Acme", "flag_count": 1 + step]), at: 3001 + Int64(step) * 2)
        }
        #expect(state.teams["team-15"]?.watchlist.decreases == 3)
        #expect(state.signals(team: "team-15", now: 3010).contains { $0.kind == .writerConflict && $0.topic == "watchlist" })
    }

    @Test("stats far from the actions the board saw disagree; a record in flight does not")
    func statsDisagree() throws {
        var state = board()
        for index in 0..<10 { valid(&state, index, at: 2000 + Int64(index)) }
        state.teamStats(key: "team-15", value: stats(40, 9), at: 2100)  // one action in flight
        #expect(!kinds(state, now: 2101).contains(.statsDisagree))
        state.teamStats(key: "team-15", value: stats(3, 2), at: 2200)  // restarted at zero
        let signal = try #require(state.signals(team: "team-15", now: 2201).first { $0.kind == .statsDisagree })
        #expect(signal.sentence.contains("flagged 2"))
        #expect(signal.sentence.contains("10 actions"))
        #expect(signal.question == "What happens if your program crashes and restarts?")
        // With two members, it is the two-writers question.
        state.groupObserved(team: "team-15", members: 2, state: "Stable", committed: true, lag: 0, at: 2300)
        #expect(state.signals(team: "team-15", now: 2301).first { $0.kind == .statsDisagree }?.question
            == "What happens if two team members run the same code with the same team name?")
        // A forged flagged of Int64.max disagrees, without overflow.
        state.teamStats(key: "team-15", value: Array(#"{"team":"team-15","processed":9223372036854775807,"flagged":9223372036854775807}"#.utf8), at: 2400)
        #expect(kinds(state, now: 2401).contains(.statsDisagree))
    }

    @Test("redeliveries are explained as at-least-once")
    func redelivery() {
        var state = board()
        state.groupObserved(team: "team-15", members: 1, assignment: [GroupMember(clientID: "a", host: "/10.0.0.1", partitions: [0, 1])], state: "Stable", committed: true, lag: 0, at: 1500)
        valid(&state, 0, at: 2000)
        #expect(state.action(json(["customer": "u0@x.org", "type": "CONTACT_CUSTOMER", "reason": "UPGRADE_FREE", "team": "team-15"]), at: 2001) == .redelivery(team: "team-15"))
        let signal = state.signals(team: "team-15", now: 2002).first { $0.kind == .redelivery }
        #expect(signal?.sentence.hasPrefix("1 action was sent again") == true)
    }

    @Test("lag growing over half a minute or more shows; steady or falling lag does not")
    func lagGrowing() throws {
        var state = board()
        for second in 0...40 {
            state.groupObserved(team: "team-15", members: 1, state: "Stable", committed: true, lag: Int64(second * 3), at: 10_000 + Int64(second) * 1000)
        }
        let samples = try #require(state.teams["team-15"]?.lagSamples)
        #expect(samples.count == 9)  // one per 5 s
        let signal = try #require(state.signals(team: "team-15", now: 51_000).first { $0.kind == .lagGrowing })
        #expect(signal.sentence.contains("grew from 0 to 120 in 40 s"))
        // Falling again: gone.
        state.groupObserved(team: "team-15", members: 1, state: "Stable", committed: true, lag: 20, at: 56_000)
        #expect(!kinds(state, now: 56_000).contains(.lagGrowing))
        // Only the last minute is kept.
        for second in 0...100 {
            state.groupObserved(team: "team-15", members: 1, state: "Stable", committed: true, lag: 5, at: 60_000 + Int64(second) * 1000)
        }
        #expect((state.teams["team-15"]?.lagSamples.count ?? 0) <= 13)
        #expect(!kinds(state, now: 160_000).contains(.lagGrowing))
    }

    @Test("signals show on the row")
    func onTheRow() {
        var state = board()
        valid(&state, 0, at: 2000)
        state.teamStats(key: nil, value: stats(1, 1), at: 2001)
        let row = state.report(now: 2002, groupInspection: "").teams.first { $0.team == "team-15" }
        #expect(row?.signals.map(\.kind) == [.missingKey])
    }
}

@Suite("Scoring that matches the lesson")
struct ScoringTests {
    func board() -> LeaderboardState {
        var workshop = Workshop.default
        workshop.thresholds.keyMaster = 2
        var state = LeaderboardState(workshop: workshop)
        for index in 0..<5 { state.userSeen(json(user(["email": "u\(index)@x.org", "pack": "free"])), at: 1000) }
        state.userSeen(json(user(["email": "plain@x.org"])), at: 1000)
        return state
    }

    @Test("a team whose every reason is misspelt earns no 📊 and no 🔑, and gets the wrong-type badge")
    func noStepWithoutValidActions() {
        var state = board()
        for index in 0..<5 {
            let outcome = state.action(json(["customer": "u\(index)@x.org", "type": "CONTACT_CUSTOMER", "reason": "UPGRADE_FRE", "team": "team-15"]), at: 2000 + Int64(index))
            #expect(outcome == .mistake(.wrongTypeOrReason, team: "team-15"))
        }
        for step in 0..<5 { state.teamStats(key: "team-15", value: json(["team": "team-15", "processed": step, "flagged": step]), at: 3000 + Int64(step)) }
        let unlocked = state.teams["team-15"]?.unlocked ?? [:]
        #expect(unlocked[.stats] == nil)
        #expect(unlocked[.keyMaster] == nil)
        #expect(unlocked[.statsFirst] == nil)
        #expect(unlocked[.wrongTypeOrReason] == 2000)
        #expect(state.points("team-15") == 0)
        let badge = state.report(now: 4000, groupInspection: "").teams.first { $0.team == "team-15" }?.achievements.first
        #expect(badge?.id == .wrongTypeOrReason)
        #expect(badge?.kind == .mistake)
        #expect(badge?.emoji == "🏷️")
    }

    @Test("penalties per mistake kind, off by default, never below zero points")
    func penalties() throws {
        var state = board()
        state.action(json(["customer": "u0@x.org", "type": "CONTACT_CUSTOMER", "reason": "UPGRADE_FREE", "team": "team-15"]), at: 2000)
        for _ in 0..<3 { state.action(json(["customer": "plain@x.org", "type": "CONTACT_CUSTOMER", "reason": "UPGRADE_FREE", "team": "team-15"]), at: 2001) }
        // First Load (20); one false positive, two duplicates; no penalty by default.
        #expect(state.points("team-15") == 20)
        #expect(state.penalty("team-15") == 0)

        var workshop = state.workshop
        workshop.penalties = [.falsePositive: 5, .duplicate: 2]
        var penalised = LeaderboardState(workshop: workshop)
        penalised.restore(state.snapshot())
        #expect(penalised.penalty("team-15") == 9)
        #expect(penalised.points("team-15") == 11)
        let row = penalised.report(now: 3000, groupInspection: "").teams.first { $0.team == "team-15" }
        #expect(row?.penalty == 9)
        #expect(row?.points == 11)
        workshop.penalties = [.falsePositive: 1000]
        var harsh = LeaderboardState(workshop: workshop)
        harsh.restore(state.snapshot())
        #expect(harsh.points("team-15") == 0)
    }

    @Test("a workshop file sets penalties by mistake name; out of range or unknown kinds are refused")
    func penaltiesInTheFile() throws {
        let file = try JSONDecoder().decode(Workshop.self, from: Data(#"{"penalties": {"false_positive": 5, "duplicate": 1}}"#.utf8))
        #expect(file.penalties == [.falsePositive: 5, .duplicate: 1])
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Workshop.self, from: Data(#"{"penalties": {"careless": 5}}"#.utf8)) }
        let negative = try JSONDecoder().decode(Workshop.self, from: Data(#"{"penalties": {"duplicate": -5}}"#.utf8))
        #expect(throws: WorkshopError.self) { try negative.validate() }
        #expect(Workshop.default.penalties.isEmpty)
    }
}

@Suite("Snapshots written before a field existed")
struct OlderSnapshotTests {
    @Test("a team state without the newer fields decodes with their defaults")
    func olderTeamState() throws {
        let older = #"{"valid":3,"streak":2,"bestStreak":3,"mistakes":{"duplicate":1},"flagged":["a"],"sent":["a"],"stats":{"records":2,"correct_key":1,"missing_key":1,"wrong_key":0,"invalid":0},"watchlist":{"records":0,"correct_key":0,"missing_key":0,"wrong_key":0,"invalid":0},"connected":true,"lagWasHigh":false,"unlocked":{"connected":5}}"#
        let state = try JSONDecoder().decode(TeamState.self, from: Data(older.utf8))
        #expect(state.valid == 3)
        #expect(state.mistakes == [.duplicate: 1])
        #expect(state.stats.missingKey == 1)
        #expect(state.stats.refused == 0)
        #expect(state.stats.lastKey == nil)
        #expect(state.redeliveries == 0)
        #expect(state.lagSamples.isEmpty)
        #expect(state.unlocked == [.connected: 5])
        // And what this version writes reads back the same.
        var current = state
        current.redeliveries = 4
        current.stats.decreases = 1
        current.stats.lastDecreaseAt = 9
        current.lagSamples = [.init(at: 1, lag: 2)]
        let again = try JSONDecoder().decode(TeamState.self, from: JSONEncoder().encode(current))
        #expect(again == current)
    }
}
