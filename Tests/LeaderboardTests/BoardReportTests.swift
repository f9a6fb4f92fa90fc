import FastJSON
import Foundation
import Leaderboard
import Testing

/// What the projector board reads from a row and from the report.
@Suite("The board's report for the projector")
struct BoardReportTests {
    func board(_ workshop: Workshop = .default) -> LeaderboardState {
        var state = LeaderboardState(workshop: workshop)
        for index in 0..<5 { state.userSeen(json(user(["email": "u\(index)@x.org", "pack": "free"])), at: 1000) }
        state.userSeen(json(user(["email": "plain@x.org"])), at: 1000)
        return state
    }

    func row(_ state: LeaderboardState, _ team: String = "team-15", now: Int64 = 10_000) -> LeaderboardReport.Row? {
        state.report(now: now, groupInspection: "").teams.first { $0.team == team }
    }

    @Test("last activity is the team's latest record, whatever order records came in; mistakes by kind; the latest stats")
    func rowFields() throws {
        var state = board()
        #expect(row(state)?.lastActivityAt == nil)
        #expect(row(state)?.stats == nil)
        state.action(json(["customer": "u0@x.org", "type": "CONTACT_CUSTOMER", "reason": "UPGRADE_FREE", "team": "team-15"]), at: 5000)
        state.action(json(["customer": "plain@x.org", "type": "CONTACT_CUSTOMER", "reason": "UPGRADE_FREE", "team": "team-15"]), at: 4000)
        state.action(json(["customer": "u0@x.org", "type": "CONTACT_CUSTOMER", "reason": "UPGRADE_FREE", "team": "team-15"]), at: 4500)
        let first = try #require(row(state))
        #expect(first.lastActivityAt == 5000)
        #expect(first.mistakesByKind == [.falsePositive: 1, .duplicate: 1])
        state.teamStats(key: "team-15", value: json(["team": "team-15", "processed": 40, "flagged": 2]), at: 6000)
        state.keylessRefused(topic: "team_stats", value: json(["team": "team-15", "processed": 41, "flagged": 2]), at: 6500)
        let second = try #require(row(state))
        let stats = try #require(second.stats)
        #expect(stats.processed == 40)
        #expect(stats.flagged == 2)
        #expect(stats.key == .missing)  // the refused attempt came later
        #expect(stats.records == 1)
        #expect(second.lastActivityAt == 6000)  // a refused record never reached the topic
    }

    @Test("the last offending record per kind, cut to 300 bytes at a character boundary")
    func lastMistakes() throws {
        var state = board()
        let long = "{\"team\":\"team-15\",\"customer\":\"" + String(repeating: "é", count: 400) + "\""
        state.action(Array(long.utf8), at: 2000)
        let kept = try #require(state.teams["team-15"]?.lastMistakes[.parseError])
        #expect(kept.at == 2000)
        #expect(kept.record.utf8.count <= TeamState.OffendingRecord.maxBytes)
        #expect(kept.record.hasPrefix("{\"team\":\"team-15\""))
        #expect(!kept.record.contains("\u{FFFD}"))
    }

    @Test("companies on the watchlist per team, from correctly keyed records at the threshold")
    func watchlisted() throws {
        var workshop = Workshop.default
        workshop.finalStep = .watchlist
        var state = board(workshop)
        for (company, count, key) in [("Acme", 3, "Acme"), ("Hooli", 2, "Hooli"), ("Initech", 5, "team-15")] {
            state.watchlist(key: key, value: json(["team": "team-15", "company": company, "flag_count": count]), at: 3000)
        }
        #expect(row(state)?.watchlisted == ["Acme"])
    }

    @Test("step columns and emoji follow the final step: the watchlist variant's pages number the steps 1️⃣ 3️⃣ 4️⃣ 5️⃣")
    func variants() throws {
        let statsClass = LeaderboardState(workshop: .default).report(now: 0, groupInspection: "")
        #expect(statsClass.stepColumns == [.connected, .firstLoad, .scaled, .stats])
        #expect(statsClass.catalog.count == Achievement.allCases.count)
        #expect(statsClass.catalog.first { $0.id == .connected }?.emoji == "🔌")
        // Duplicate's badge is no keycap, which the watchlist variant uses for its steps.
        #expect(statsClass.catalog.first { $0.id == .duplicate }?.emoji == "🔁")
        let file = try JSONDecoder().decode(Workshop.self, from: Data(#"{"final_step": "watchlist"}"#.utf8))
        let watchlistClass = LeaderboardState(workshop: file).report(now: 0, groupInspection: "")
        #expect(watchlistClass.stepColumns == [.connected, .firstLoad, .scaled, .watchlist])
        #expect(watchlistClass.stepColumns.compactMap { id in watchlistClass.catalog.first { $0.id == id }?.emoji } == ["1️⃣", "3️⃣", "4️⃣", "5️⃣"])
        let symbols = watchlistClass.catalog.map(\.emoji)
        #expect(Set(symbols).count == symbols.count, "two achievements share a symbol")
        // A file's own emoji still wins.
        let priced = try JSONDecoder().decode(Workshop.self, from: Data(#"{"final_step": "watchlist", "achievements": {"connected": {"emoji": "🔗", "title": "Connected", "points": 10}}}"#.utf8))
        #expect(priced.achievements[.connected]?.emoji == "🔗")
        #expect(priced.achievements[.firstLoad]?.emoji == "3️⃣")
    }

    @Test("records per key of a compacted view: how many arrived against the one kept")
    func recordsPerKey() {
        var state = board()
        for processed in 1...4 {
            state.teamStats(key: "team-15", value: json(["team": "team-15", "processed": processed, "flagged": 0]), at: Int64(processed))
        }
        state.teamStats(key: nil, value: json(["team": "team-15", "processed": 9, "flagged": 0]), at: 5)
        #expect(state.latestTeamStats["team-15"]?.records == 4)
        #expect(state.latestTeamStats["team-15"]?.numbers["processed"] == 4)
        #expect(state.latestTeamStats[""]?.records == 1)
    }
}
