import FastJSON
import Foundation
import Leaderboard
import Testing

/// A user that matches no default team's rule; each test changes what it needs.
func user(_ changes: [String: Any] = [:]) -> [String: Any] {
    var fields: [String: Any] = [
        "email": "jane@gmail.com", "credit_card_number": "4111111111111111", "company_name": "Acme",
        "company_slogan": "We sell", "industry": "Retail", "user_name": "jroe", "avatar": "https://cdn.acme.com/a.png",
        "name": "Jane Roe", "profession": "teacher", "field": "Arts", "premium": false, "credit": 0,
        "time_zone": "America/New_York", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", "pack": "premium",
    ]
    fields.merge(changes) { $1 }
    return fields
}

func json(_ object: Any) -> [UInt8] {
    (try? Array(JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))) ?? []
}

func decoded(_ fields: [String: Any]) throws -> NewUser {
    try #require(NewUser.decode(json(fields)))
}

@Suite("The fifteen default rules")
struct RuleTests {
    /// (team, the fields that make the plain user match it, as JSON).
    static let matching: [(String, String)] = [
        ("team-1", #"{"email": "jane@HOTMAIL.com"}"#),
        ("team-2", #"{"credit_card_number": "378282246310005"}"#),
        ("team-3", #"{"industry": "Investment Banking"}"#),
        ("team-4", #"{"industry": "Computer Software"}"#),
        ("team-5", #"{"industry": "Hospital & Health Care"}"#),
        ("team-6", #"{"profession": "Engineer"}"#),
        ("team-7", #"{"premium": true, "credit": 11}"#),
        ("team-8", #"{"credit": -16}"#),
        ("team-9", #"{"time_zone": "Asia/Tokyo"}"#),
        ("team-10", #"{"user_agent": "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)"}"#),
        ("team-11", #"{"time_zone": "Europe/Paris"}"#),
        ("team-12", #"{"field": "IT"}"#),
        ("team-13", #"{"avatar": "http://cdn.acme.com/a.png"}"#),
        ("team-14", #"{"name": "John Doe"}"#),
        ("team-15", #"{"pack": "free"}"#),
    ]

    @Test("each crafted user matches exactly its team", arguments: matching)
    func matchesOnlyItsTeam(team: String, changesJSON: String) throws {
        let workshop = Workshop.default
        let changes = try #require(try JSONSerialization.jsonObject(with: Data(changesJSON.utf8)) as? [String: Any])
        let crafted = try decoded(user(changes))
        let matched = workshop.teams.filter { workshop.matches(crafted, team: $0) }.map(\.name)
        #expect(matched == [team])
    }

    @Test("the plain user matches no team; edges stay outside")
    func edges() throws {
        let workshop = Workshop.default
        func teams(_ changes: [String: Any]) throws -> [String] {
            let crafted = try decoded(user(changes))
            return workshop.teams.filter { workshop.matches(crafted, team: $0) }.map(\.name)
        }
        #expect(try teams([:]) == [])
        #expect(try teams(["premium": true, "credit": 10]) == [])  // credit must be above 10
        #expect(try teams(["premium": false, "credit": 50]) == [])
        #expect(try teams(["credit": -15]) == [])  // below -15 only
        #expect(try teams(["avatar": "https://example.org/x.png"]) == ["team-13"])
        #expect(try teams(["field": "technology"]) == ["team-12"])
        #expect(try teams(["name": "john doe"]) == [])  // name is compared as written
        #expect(try teams(["time_zone": "asia/tokyo"]) == [])  // time zones too
    }

    @Test("the default workshop round-trips through its JSON file form")
    func workshopFile() throws {
        let data = try JSONEncoder().encode(Workshop.default)
        let path = NSTemporaryDirectory() + "workshop-\(UUID().uuidString).json"
        try data.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try Workshop.load(contentsOf: path) == Workshop.default)
        #expect(throws: WorkshopError.self) { try Workshop.load(contentsOf: "/nonexistent/workshop.json") }
        let broken = NSTemporaryDirectory() + "workshop-\(UUID().uuidString).json"
        try Data(#"{"teams":[{"name":"t","rule":{"field":"x"},"type":"a","reason":"b","description":"d"}]}"#.utf8).write(to: URL(fileURLWithPath: broken))
        defer { try? FileManager.default.removeItem(atPath: broken) }
        #expect(throws: WorkshopError.self) { try Workshop.load(contentsOf: broken) }
    }

    @Test("a workshop file lists only what it changes; unknown keys are refused by name")
    func partialWorkshopFile() throws {
        func load(_ json: String) throws(WorkshopError) -> Workshop {
            let path = NSTemporaryDirectory() + "workshop-\(UUID().uuidString).json"
            _ = FileManager.default.createFile(atPath: path, contents: Data(json.utf8))
            defer { try? FileManager.default.removeItem(atPath: path) }
            return try Workshop.load(contentsOf: path)
        }
        let tuned = try load(#"{"thresholds": {"fifty": 20}, "achievements": {"fifty": {"emoji": "🔥", "title": "Twenty", "points": 5}}, "final_step": "both"}"#)
        #expect(tuned.teams == Workshop.default.teams)
        #expect(tuned.thresholds.fifty == 20)
        #expect(tuned.thresholds.century == 100)
        #expect(tuned.achievements[.fifty]?.points == 5)
        #expect(tuned.achievements[.century] == Workshop.default.achievements[.century])
        #expect(tuned.finalStep == .both)
        #expect(tuned.topics == Workshop.Topics())
        #expect(try load("{}") == Workshop.default)
        // The lower-case fields set in a file take effect (name: "JOHN DOE" is John Doe).
        let shouting = try #require(NewUser.decode(Array(#"{"email":"j@x.org","name":"JOHN DOE"}"#.utf8)))
        let team14 = try #require(Workshop.default.team(named: "team-14"))
        #expect(!Workshop.default.matches(shouting, team: team14))
        #expect(try load(#"{"case_insensitive_fields": ["name"]}"#).matches(shouting, team: team14))

        let class2 = try load(#"{"teams": [{"name": "blue", "rule": {"field": "pack", "equals": ["free"]}, "type": "T", "reason": "R"}], "topics": {"partitions": 3}}"#)
        #expect(class2.teams.map(\.name) == ["blue"])
        #expect(class2.teams.first?.description == #"{"equals":["free"],"field":"pack"}"#)
        #expect(class2.topics.partitions == 3)
        #expect(class2.topics.newUsers == "new_users")

        for (json, word) in [(#"{"threshold": {"fifty": 20}}"#, "threshold"), (#"{"thresholds": {"fity": 20}}"#, "fity"),
                             (#"{"teams": [{"name": "x", "rule": {"field": "pack", "equals": ["free"]}, "type": "T", "reason": "R", "colour": "red"}]}"#, "colour")] {
            do {
                _ = try load(json)
                Issue.record("accepted \(json)")
            } catch {
                #expect(error.description.contains("unknown key") && error.description.contains(word), "\(error)")
            }
        }
    }
}

@Suite("Validating actions, scoring and achievements")
struct BoardTests {
    /// A board that knows `count` users matching team-15 (pack free), emails u0@x … .
    func board(freeUsers count: Int = 5, workshop: Workshop = .default) -> LeaderboardState {
        var state = LeaderboardState(workshop: workshop)
        for index in 0..<count {
            state.userSeen(json(user(["email": "u\(index)@x.org", "pack": "free"])), at: 1000)
        }
        state.userSeen(json(user(["email": "plain@x.org"])), at: 1000)
        return state
    }

    func action(_ team: String, _ customer: String, type: String = "CONTACT_CUSTOMER", reason: String = "UPGRADE_FREE") -> [UInt8] {
        json(["customer": customer, "type": type, "reason": reason, "team": team])
    }

    @Test("each check in order, each counted for the team, streak reset by mistakes")
    func validationOrder() {
        var state = board()
        #expect(state.action(action("team-15", "u0@x.org"), at: 2000) == .valid(team: "team-15"))
        #expect(state.action(Array("not json from team-15".utf8), at: 2001) == .mistake(.parseError, team: "team-15"))
        #expect(state.action(Array(#"{"team":"team-15","customer":"u1@x.org","type":"CONTACT_CUSTOMER"}"#.utf8), at: 2002) == .mistake(.missingFields, team: "team-15"))
        #expect(state.action(action("team-15", ""), at: 2003) == .mistake(.missingFields, team: "team-15"))
        #expect(state.action(action("team-99", "u1@x.org"), at: 2004) == .mistake(.unknownTeam, team: nil))
        #expect(state.action(action("team-15", "u0@x.org"), at: 2005) == .mistake(.duplicate, team: "team-15"))
        #expect(state.action(action("team-15", "nobody@x.org"), at: 2006) == .mistake(.ghostUser, team: "team-15"))
        #expect(state.action(action("team-15", "plain@x.org"), at: 2007) == .mistake(.falsePositive, team: "team-15"))
        #expect(state.action(action("team-15", "u1@x.org", reason: "WRONG"), at: 2008) == .mistake(.wrongTypeOrReason, team: "team-15"))
        // Duplicate comes before ghost: the same unknown customer twice is a duplicate.
        #expect(state.action(action("team-15", "nobody@x.org"), at: 2009) == .mistake(.duplicate, team: "team-15"))
        let team = state.teams["team-15"]
        #expect(team?.valid == 1)
        #expect(team?.streak == 0)
        #expect(team?.mistakes == [.parseError: 1, .missingFields: 2, .duplicate: 2, .ghostUser: 1, .falsePositive: 1, .wrongTypeOrReason: 1])
        #expect(state.unknownTeamActions == 1)
        let unlocked = Set(team?.unlocked.keys ?? [:].keys)
        #expect(unlocked.isSuperset(of: [.firstLoad, .parseError, .missingFields, .duplicate, .ghostUser, .falsePositive]))
        #expect(state.points("team-15") == 20)  // First Load; mistakes are worth nothing
    }

    @Test("a session reset: scores and honours start over, older records no longer count, known users are no ghosts and not missed")
    func resetSession() throws {
        var state = LeaderboardState(workshop: .default)
        state.groupObserved(team: "team-15", members: nil, state: nil, committed: true, lag: nil, at: 500)
        for index in 0..<3 { state.userSeen(json(user(["email": "u\(index)@x.org", "pack": "free"])), at: 1000) }
        state.action(action("team-15", "u0@x.org"), at: 2000)
        state.teamStats(key: "team-15", value: json(["team": "team-15", "processed": 3, "flagged": 1]), at: 2001)
        #expect(state.teams["team-15"]?.unlocked[.statsFirst] == 2001)
        #expect(state.missed(team: "team-15", now: 1000 + 121_000) == 2)

        state.resetSession(at: 5000)
        #expect(state.teams["team-15"] == TeamState())
        #expect(state.takeUnlocks().isEmpty)
        #expect(state.points("team-15") == 0)
        // The compacted topic's latest value stays: it is the topic's content.
        #expect(state.latestTeamStats["team-15"]?.numbers["flagged"] == 1)
        // Stamped before the reset (a record still in flight): not judged.
        #expect(state.action(action("team-15", "u1@x.org"), at: 4999) == .beforeSession)
        #expect(state.teamStats(key: "team-15", value: json(["team": "team-15", "processed": 1, "flagged": 1]), at: 4999) == .beforeSession)
        // A user read before the reset is known (no ghost) but expected from nobody.
        #expect(state.missed(team: "team-15", now: 10_000_000) == 0)
        #expect(state.action(action("team-15", "u0@x.org"), at: 5001) == .valid(team: "team-15"))
        // Stats First can be won again, in the new session.
        state.teamStats(key: "team-15", value: json(["team": "team-15", "processed": 3, "flagged": 1]), at: 5002)
        #expect(state.teams["team-15"]?.unlocked[.statsFirst] == 5002)
        // Users seen after the reset are expected again (of a team started since); the
        // reset survives a snapshot.
        state.groupObserved(team: "team-15", members: nil, state: nil, committed: true, lag: nil, at: 5500)
        state.userSeen(json(user(["email": "late@x.org", "pack": "free"])), at: 6000)
        #expect(state.missed(team: "team-15", now: 6000 + 121_000) == 1)
        var restored = LeaderboardState(workshop: .default)
        restored.restore(state.snapshot())
        #expect(restored.sessionStartedAt == 5000)
        #expect(restored.teams["team-15"]?.valid == 1)
    }

    @Test("a malformed record is charged to the team named in it, team-1 not inside team-10")
    func lenientTeam() {
        var state = board()
        #expect(state.action(Array("{oops team-10".utf8), at: 1) == .mistake(.parseError, team: "team-10"))
        #expect(state.action(Array("{oops team-1,".utf8), at: 1) == .mistake(.parseError, team: "team-1"))
        #expect(state.action(Array("{oops".utf8), at: 1) == .mistake(.parseError, team: nil))
    }

    @Test("progress thresholds unlock at 10, 50 and 100 valid actions and 10 and 50 in a row")
    func progress() {
        var state = board(freeUsers: 100)
        var unlockedAt: [Achievement: Int] = [:]
        for index in 0..<100 {
            state.action(action("team-15", "u\(index)@x.org"), at: Int64(10_000 + index))
            for unlock in state.takeUnlocks() where unlockedAt[unlock.achievement] == nil {
                unlockedAt[unlock.achievement] = index + 1
            }
        }
        #expect(unlockedAt[.firstLoad] == 1)
        #expect(unlockedAt[.firstSteps] == 10)
        #expect(unlockedAt[.streak] == 10)
        #expect(unlockedAt[.fifty] == 50)
        #expect(unlockedAt[.cleanStreak] == 50)
        #expect(unlockedAt[.century] == 100)
        #expect(state.teams["team-15"]?.unlocked[.century] == 10_099)  // the record's time
    }

    @Test("missed users count after two minutes, for precision and recall")
    func missed() {
        var state = LeaderboardState(workshop: .default)
        state.groupObserved(team: "team-15", members: nil, state: nil, committed: true, lag: nil, at: 500)
        for index in 0..<3 { state.userSeen(json(user(["email": "u\(index)@x.org", "pack": "free"])), at: 1000) }
        state.action(action("team-15", "u0@x.org"), at: 5000)
        #expect(state.missed(team: "team-15", now: 1000 + 119_000) == 0)
        #expect(state.missed(team: "team-15", now: 1000 + 120_000) == 2)
    }

    @Test("a duplicate around a change of the team's group is a redelivery (no mistake, no streak reset); far from one it is a duplicate")
    func redelivery() {
        var state = board(freeUsers: 6)
        let one = [GroupMember(clientID: "a", host: "/h1", partitions: [0, 1, 2, 3, 4])]
        let two = [GroupMember(clientID: "a", host: "/h1", partitions: [0, 1, 2]), GroupMember(clientID: "b", host: "/h2", partitions: [3, 4])]
        state.groupObserved(team: "team-15", members: 1, assignment: one, state: "Stable", committed: true, lag: nil, at: 1_000)
        for index in 0..<3 { state.action(action("team-15", "u\(index)@x.org"), at: 2_000 + Int64(index)) }
        // The same look again: no change.
        state.groupObserved(team: "team-15", members: 1, assignment: one, state: "Stable", committed: true, lag: nil, at: 50_000)
        #expect(state.teams["team-15"]?.groupChangedAt == 1_000)
        // Step 4: a second instance joins at 60 s; both re-send customers from partitions
        // whose offsets were not committed yet.
        state.groupObserved(team: "team-15", members: 2, assignment: two, state: "Stable", committed: true, lag: nil, at: 60_000)
        #expect(state.action(action("team-15", "u1@x.org"), at: 61_000) == .redelivery(team: "team-15"))
        #expect(state.action(action("team-15", "u2@x.org"), at: 59_500) == .redelivery(team: "team-15"))  // stamped just before the look
        #expect(state.teams["team-15"]?.redeliveries == 2)
        #expect(state.teams["team-15"]?.mistakes.isEmpty == true)
        #expect(state.teams["team-15"]?.streak == 3)
        #expect(state.teams["team-15"]?.unlocked[.duplicate] == nil)
        // Long after the change, a duplicate is a mistake again.
        #expect(state.action(action("team-15", "u0@x.org"), at: 200_000) == .mistake(.duplicate, team: "team-15"))
        // A forged timestamp does not overflow the window's arithmetic.
        #expect(state.action(action("team-15", "u0@x.org"), at: .min) == .mistake(.duplicate, team: "team-15"))
        #expect(state.report(now: 300_000, groupInspection: "test").teams.first { $0.team == "team-15" }?.redeliveries == 2)
    }

    @Test("users that appeared before the team's group first had partitions are not missed; a team never started misses nothing")
    func missedFromStart() {
        var state = LeaderboardState(workshop: .default)
        state.userSeen(json(user(["email": "early@x.org", "pack": "free"])), at: 1000)
        #expect(state.missed(team: "team-15", now: 1_000_000) == 0)  // never started
        // Members without partitions yet (joining): not started.
        state.groupObserved(team: "team-15", members: 1, assignment: [GroupMember(clientID: "a", host: "/h", partitions: [])], state: "CompletingRebalance", committed: false, lag: nil, at: 2000)
        #expect(state.teams["team-15"]?.startedAt == nil)
        state.groupObserved(team: "team-15", members: 1, assignment: [GroupMember(clientID: "a", host: "/h", partitions: [0, 1])], state: "Stable", committed: false, lag: nil, at: 3000)
        #expect(state.teams["team-15"]?.startedAt == 3000)
        state.userSeen(json(user(["email": "late@x.org", "pack": "free"])), at: 4000)
        #expect(state.missed(team: "team-15", now: 4000 + 120_000) == 1)  // late, not early
        // The start is the first one: later observations do not move it.
        state.groupObserved(team: "team-15", members: 2, assignment: [GroupMember(clientID: "a", host: "/h", partitions: [0])], state: "Stable", committed: true, lag: nil, at: 9000)
        #expect(state.teams["team-15"]?.startedAt == 3000)
    }

    @Test("team_stats and watchlist keys: missing, wrong, right; the steps need a valid action too")
    func keys() {
        var state = board()
        let stats = json(["team": "team-15", "processed": 10, "flagged": 2])
        #expect(state.teamStats(key: nil, value: stats, at: 1) == .judged(team: "team-15", .missing))
        #expect(state.teamStats(key: "team-1", value: stats, at: 2) == .judged(team: "team-15", .wrong))
        #expect(state.teams["team-15"]?.unlocked[.stats] == nil)
        #expect(state.teamStats(key: "team-15", value: stats, at: 3) == .judged(team: "team-15", .correct))
        // Keyed right, but no valid action yet: the step does not work, no 📊.
        #expect(state.teams["team-15"]?.unlocked[.stats] == nil)
        #expect(state.action(action("team-15", "u0@x.org"), at: 4) == .valid(team: "team-15"))
        #expect(state.teams["team-15"]?.unlocked[.stats] == 4)
        #expect(state.teams["team-15"]?.unlocked[.statsFirst] == 4)
        #expect(state.teamStats(key: "team-15", value: json(["team": "team-15", "processed": 1, "flagged": 5]), at: 5) == .judged(team: "team-15", .correct))
        let records = state.teams["team-15"]?.stats
        #expect(records?.records == 4)
        #expect(records?.correctKey == 2)
        #expect(records?.missingKey == 1)
        #expect(records?.wrongKey == 1)
        #expect(records?.invalid == 1)
        #expect(records?.lastKey == .correct)
        #expect(state.teams["team-15"]?.lastStats == .init(processed: 10, flagged: 2))

        let entry = json(["team": "team-15", "company": "Acme", "flag_count": 3])
        #expect(state.watchlist(key: "team-15", value: entry, at: 6) == .judged(team: "team-15", .wrong))
        #expect(state.watchlist(key: "Acme", value: entry, at: 7) == .judged(team: "team-15", .correct))
        // What the metrics tell apart: not JSON, and JSON naming no team of the workshop.
        #expect(state.teamStats(key: "team-15", value: Array("{\"team\":".utf8), at: 7) == .malformed)
        #expect(state.watchlist(key: "Acme", value: json(["team": "team-99", "company": "Acme", "flag_count": 1]), at: 7) == .notATeam)
        #expect(state.watchlist(key: "Acme", value: json(["team": "team-15", "flag_count": 1]), at: 7) == .notATeam)
        #expect(state.teams["team-15"]?.unlocked[.watchlist] == 7)
        // Stats First is one team's only.
        state.userSeen(json(user(["email": "bank@x.org", "industry": "Banking"])), at: 8)
        state.action(json(["customer": "bank@x.org", "type": "SALES_LEAD", "reason": "FINANCIAL_SECTOR", "team": "team-3"]), at: 8)
        state.teamStats(key: "team-3", value: json(["team": "team-3", "processed": 1, "flagged": 0]), at: 9)
        #expect(state.teams["team-3"]?.valid == 1)
        #expect(state.teams["team-3"]?.unlocked[.stats] == 9)
        #expect(state.teams["team-3"]?.unlocked[.statsFirst] == nil)
    }

    @Test("groups: connected (first blood once), scaled, explorer, lag buster")
    func groups() {
        var state = board()
        state.groupObserved(team: "team-2", members: nil, state: nil, committed: true, lag: 150, at: 10)
        state.groupObserved(team: "team-5", members: 3, state: "Stable", committed: false, lag: 150, at: 11)
        #expect(state.teams["team-2"]?.unlocked[.firstBlood] == 10)
        #expect(state.teams["team-5"]?.unlocked[.firstBlood] == nil)
        #expect(state.teams["team-5"]?.unlocked[.connected] == 11)
        #expect(state.teams["team-5"]?.unlocked[.scaled] == 11)
        #expect(state.teams["team-5"]?.unlocked[.partitionExplorer] == 11)
        #expect(state.teams["team-2"]?.unlocked[.lagBuster] == nil)
        state.groupObserved(team: "team-2", members: nil, state: nil, committed: true, lag: 5, at: 20)
        #expect(state.teams["team-2"]?.unlocked[.lagBuster] == 20)
        // Low lag without ever being high is no Lag Buster.
        state.groupObserved(team: "team-7", members: 1, state: "Stable", committed: true, lag: 0, at: 21)
        #expect(state.teams["team-7"]?.unlocked[.lagBuster] == nil)
    }

    @Test("ranking: points, then steps, then earliest last unlock, then team number")
    func ranking() {
        var state = board(freeUsers: 0)
        // team-10 and team-2: same points and steps, team-10 earlier → team-10 first.
        state.groupObserved(team: "team-10", members: 1, state: "Stable", committed: true, lag: nil, at: 100)
        state.groupObserved(team: "team-2", members: 1, state: "Stable", committed: true, lag: nil, at: 200)
        // team-3 and team-4 connect at the same moment: by number.
        state.groupObserved(team: "team-4", members: 1, state: "Stable", committed: true, lag: nil, at: 300)
        state.groupObserved(team: "team-3", members: 1, state: "Stable", committed: true, lag: nil, at: 300)
        let order = state.ranking()
        // team-10 also holds First Blood (more points).
        #expect(Array(order.prefix(4)) == ["team-10", "team-2", "team-3", "team-4"])
        // Teams with nothing: by number, team-5 before team-11.
        let rest = order.dropFirst(4)
        #expect(Array(rest.prefix(2)) == ["team-1", "team-5"])
        #expect((rest.firstIndex(of: "team-9") ?? .max) < (rest.firstIndex(of: "team-11") ?? -1))
    }

    @Test("exactly one Champion: the first team holding every required achievement")
    func champion() {
        var workshop = Workshop.default
        workshop.thresholds = .init()
        workshop.thresholds.firstSteps = 1
        workshop.thresholds.fifty = 2
        workshop.thresholds.century = 3
        workshop.thresholds.streak = 2
        workshop.thresholds.cleanStreak = 3
        workshop.thresholds.keyMaster = 2
        var state = board(freeUsers: 6, workshop: workshop)
        // team-15 and team-14 do everything; team-15 finishes first.
        func complete(_ team: String, customers: [String], reason: String, type: String, at base: Int64) {
            state.groupObserved(team: team, members: 3, state: "Stable", committed: true, lag: 200, at: base)
            state.groupObserved(team: team, members: 3, state: "Stable", committed: true, lag: 0, at: base + 1)
            for (offset, customer) in customers.enumerated() {
                state.action(json(["customer": customer, "type": type, "reason": reason, "team": team]), at: base + 2 + Int64(offset))
            }
            let stats = json(["team": team, "processed": 10, "flagged": 3])
            state.teamStats(key: team, value: stats, at: base + 10)
            state.teamStats(key: team, value: stats, at: base + 11)
        }
        complete("team-15", customers: ["u0@x.org", "u1@x.org", "u2@x.org"], reason: "UPGRADE_FREE", type: "CONTACT_CUSTOMER", at: 1000)
        #expect(state.teams["team-15"]?.unlocked[.champion] == 1011)
        for index in 0..<3 { state.userSeen(json(user(["email": "john\(index)@x.org", "name": "John Doe"])), at: 1500) }
        complete("team-14", customers: ["john0@x.org", "john1@x.org", "john2@x.org"], reason: "SUSPICIOUS_NAME", type: "BAN_CUSTOMER", at: 2000)
        #expect(state.teams["team-14"]?.unlocked[.keyMaster] != nil)
        #expect(state.teams["team-14"]?.unlocked[.champion] == nil)
        #expect(state.teams.values.filter { $0.unlocked[.champion] != nil }.count == 1)
        #expect(state.ranking().first == "team-15")
    }

    @Test("the same records in the same order give the same board")
    func reproducible() {
        func build() -> LeaderboardState {
            var state = board(freeUsers: 20)
            for index in 0..<20 { state.action(action(index % 3 == 0 ? "team-1" : "team-15", "u\(index)@x.org"), at: Int64(3000 + index)) }
            state.teamStats(key: "team-15", value: json(["team": "team-15", "processed": 20, "flagged": 13]), at: 4000)
            return state
        }
        let (a, b) = (build(), build())
        #expect(a.teams == b.teams)
        #expect(a.ranking() == b.ranking())
    }
}

@Suite("The fake user generator")
struct GeneratorTests {
    @Test("every default rule matches between 5 % and 33 % of generated users; the seed decides")
    func matchRates() throws {
        var generator = UserGenerator(seed: 42)
        let users = try (0..<3000).map { _ in try #require(NewUser.decode(generator.next())) }
        let workshop = Workshop.default
        for team in workshop.teams {
            let share = Double(users.filter { workshop.matches($0, team: team) }.count) / Double(users.count)
            #expect(share >= 0.05 && share <= 0.33, "\(team.name): \(share)")
        }
        var again = UserGenerator(seed: 42)
        #expect(try #require(NewUser.decode(again.next())) == users[0])
        var other = UserGenerator(seed: 43)
        #expect(try #require(NewUser.decode(other.next())) != users[0])
        #expect(Set(users.compactMap(\.email)).count == users.count)
    }
}

@Suite("Compacted views")
struct CompactedViewTests {
    @Test("the latest record per key; companies with 3 or more flags are on the watchlist")
    func latest() {
        var state = LeaderboardState(workshop: .default)
        state.watchlist(key: "Acme", value: json(["team": "team-1", "company": "Acme", "flag_count": 1]), at: 1)
        state.watchlist(key: "Acme", value: json(["team": "team-1", "company": "Acme", "flag_count": 3]), at: 2)
        state.watchlist(key: nil, value: json(["team": "team-2", "company": "Hooli", "flag_count": 5]), at: 3)
        state.watchlist(key: "Globex", value: json(["team": "team-2", "company": "Globex", "flag_count": 2]), at: 4)
        #expect(state.latestWatchlist["Acme"]?.numbers == ["flag_count": 3])
        #expect(state.latestWatchlist[""]?.keyCheck == .missing)
        #expect(state.watchlistedCompanies == ["Acme", "Hooli"])
        state.teamStats(key: "team-1", value: json(["team": "team-1", "processed": 5, "flagged": 1]), at: 5)
        state.teamStats(key: "team-1", value: json(["team": "team-1", "processed": 9, "flagged": 2]), at: 6)
        #expect(state.latestTeamStats.count == 1)
        #expect(state.latestTeamStats["team-1"]?.numbers == ["processed": 9, "flagged": 2])
    }
}

@Suite("Snapshots read back from leaderboard_state")
struct SnapshotValidationTests {
    static let now: Int64 = 1_795_000_000_000

    static func snapshot(_ change: (inout TeamState) -> Void = { _ in }, unknown: Int = 0, session: Int64? = nil) -> BoardSnapshot {
        var team = TeamState()
        team.valid = 12
        team.streak = 3
        team.bestStreak = 7
        team.mistakes = [.duplicate: 2]
        change(&team)
        return BoardSnapshot(teams: ["team-1": team], unknownTeamActions: unknown, latestTeamStats: [:], latestWatchlist: [:], sessionStartedAt: session)
    }

    /// A forged snapshot with a count of Int.max made the first report after a start
    /// overflow (`valid + wrong`), on every start.
    @Test("a forged snapshot is refused, a real one kept", arguments: [
        (snapshot(), nil as String?),
        (snapshot { $0.valid = .max }, "count"),
        (snapshot { $0.mistakes = [.duplicate: .max, .ghostUser: .max] }, "count"),
        (snapshot { $0.mistakes = [.duplicate: 600_000_000, .ghostUser: 600_000_000] }, "count"),
        (snapshot { $0.stats.invalid = -1 }, "count"),
        (snapshot { $0.streak = 13 }, "streak"),
        (snapshot(unknown: .max), "unknown_team_actions"),
        (snapshot(session: .max), "session_started_at"),
        (snapshot(session: now - 1000), nil),
    ])
    func validation(snapshot: BoardSnapshot, problem: String?) {
        let error = snapshot.validationError(now: Self.now)
        if let problem {
            #expect(error?.contains(problem) == true, "\(error ?? "accepted")")
        } else {
            #expect(error == nil)
        }
    }
}

@Suite("What a team's records can make the board hold")
struct BoardBoundsTests {
    /// Every distinct customer an action names was remembered for the duplicate check,
    /// whatever its size, and every distinct record key of team_stats and watchlist kept:
    /// one team's producer could grow the board (and its snapshot records, past what the
    /// broker accepts) without bound.
    @Test("remembered customers and keyed views are bounded; judging goes on")
    func bounded() {
        var state = LeaderboardState(workshop: .default)
        let long = String(repeating: "x", count: 10_000)
        for index in 0..<3 {
            state.action(Array(#"{"team":"team-1","customer":"\#(long)\#(index)","type":"t","reason":"r"}"#.utf8), at: 1)
        }
        #expect(state.teams["team-1"]?.sent.isEmpty == true)
        #expect(state.teams["team-1"]?.mistakes[.ghostUser] == 3)
        for index in 0..<(LeaderboardState.maxKeyedValues + 50) {
            state.teamStats(key: "k\(index)", value: Array(#"{"team":"team-2","processed":1,"flagged":0}"#.utf8), at: 2)
            state.watchlist(key: "c\(index)", value: Array(#"{"team":"team-3","company":"c\#(index)","flag_count":1}"#.utf8), at: 2)
        }
        state.teamStats(key: String(repeating: "k", count: 5000), value: Array(#"{"team":"team-2","processed":1,"flagged":0}"#.utf8), at: 3)
        #expect(state.latestTeamStats.count <= LeaderboardState.maxKeyedValues)
        #expect(state.latestWatchlist.count <= LeaderboardState.maxKeyedValues)
        #expect(state.latestTeamStats.keys.allSatisfy { $0.utf8.count <= LeaderboardState.maxKeyBytes })
        // Every record still counted for the key check.
        #expect(state.teams["team-2"]?.stats.records == LeaderboardState.maxKeyedValues + 51)
        // The team's own key keeps being updated once the view is full.
        state.teamStats(key: "team-2", value: Array(#"{"team":"team-2","processed":9,"flagged":1}"#.utf8), at: 4)
        #expect(state.latestTeamStats["team-2"]?.numbers["processed"] == 9)
    }
}

@Suite("Actions for customers the board does not remember")
struct UnrememberedCustomerTests {
    /// Customers over 320 bytes are never put in the duplicate check's set; a forged
    /// user with such an e-mail matching the team's rule let the same action score on
    /// every repeat.
    @Test("a valid action for a long customer scores once; repeats are duplicates")
    func longCustomerScoresOnce() throws {
        var state = LeaderboardState(workshop: .default)
        let team = try #require(Workshop.default.teams.first)
        let email = String(repeating: "e", count: 400) + "@hotmail.com"
        let user = #"{"email":"\#(email)","name":"John Doe","pack":"premium","avatar":"https://x.org/a.png","time_zone":"America/Lima","industry":"Retail","profession":"teacher","field":"Arts","user_agent":"Firefox","credit_card_number":"4111","credit":0,"premium":false}"#
        state.userSeen(Array(user.utf8), at: 1)
        let action = #"{"team":"\#(team.name)","customer":"\#(email)","type":"\#(team.type)","reason":"\#(team.reason)"}"#
        #expect(team.name == "team-1")  // email contains hotmail
        #expect(state.action(Array(action.utf8), at: 2) == .valid(team: team.name))
        for time in 3..<8 { state.action(Array(action.utf8), at: Int64(time)) }
        #expect(state.teams[team.name]?.valid == 1)
        #expect(state.teams[team.name]?.mistakes[.duplicate] == 5)
    }
}
