import App
import Foundation
import HTTPTestSupport
import Kafka
import Leaderboard
import Testing

@Suite("The instructor leaderboard, through the embedded Kafka", .serialized)
struct LeaderboardAppTests {
    /// The 2 s bound itself is checked end to end by Tests/e2e (a separate process); here
    /// the cooperative pool is shared with every other test, so only correctness is.
    @Test("records produced by a team's client are validated and awarded")
    func actionsScore() async throws {
        let running = try RunningApp()
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: running.app.bootstrapServers), logger: quietLogger)
        defer { producer.close() }
        let user = #"{"email":"fan@free.org","pack":"free","name":"Fan","avatar":"https://x.org/a.png","credit":0,"premium":false,"time_zone":"America/Lima","industry":"Retail","profession":"teacher","field":"Arts","user_agent":"Firefox","credit_card_number":"4111"}"#
        _ = try await producer.send(topic: "new_users", key: nil, value: Array(user.utf8))
        _ = try await producer.send(topic: "actions", key: nil, value: Array(#"{"customer":"fan@free.org","type":"CONTACT_CUSTOMER","reason":"UPGRADE_FREE","team":"team-15"}"#.utf8))
        _ = try await producer.send(topic: "actions", key: nil, value: Array(#"{"customer":"ghost@nowhere.org","type":"CONTACT_CUSTOMER","reason":"UPGRADE_FREE","team":"team-15"}"#.utf8))
        let client = try running.client()
        func team15() -> [String: Any]? {
            ((try? client.get("/api/leaderboard"))?.json?["teams"] as? [[String: Any]])?.first { $0["team"] as? String == "team-15" }
        }
        // The stats record goes out once the action counted, so that it is read after it
        // whatever the load (the merge may release a record after a 2 s wait for silent
        // partitions; a loaded CI machine read the stats first once).
        #expect(await eventuallyAsync(timeout: .seconds(10)) { (team15()?["valid"] as? Int) == 1 })
        _ = try await producer.send(topic: "team_stats", key: Array("team-15".utf8), value: Array(#"{"team":"team-15","processed":1,"flagged":1}"#.utf8))
        #expect(await eventuallyAsync(timeout: .seconds(10)) { (team15()?["valid"] as? Int) == 1 && ((team15()?["achievements"] as? [[String: Any]])?.count ?? 0) >= 3 })
        // The ghost is judged once the hold for unknown users has passed.
        #expect(await eventuallyAsync(timeout: .seconds(10)) { (team15()?["mistakes"] as? Int) == 1 })
        let row = try #require(team15())
        let badges = Set((row["achievements"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? [])
        #expect(badges.isSuperset(of: ["first_load", "stats", "stats_first", "ghost_user"]))
        #expect(row["rank"] as? Int == 1)
        let detail = try #require(try client.get("/api/teams/team-15").json)
        #expect((detail["mistakes"] as? [String: Int]) == ["ghost_user": 1])
        #expect((detail["team_stats"] as? [String: Any])?["correct_key"] as? Int == 1)
        #expect(try client.get("/api/teams/team-99").status == 404)
        let stats = try #require(try client.get("/api/team-stats").json?["records"] as? [[String: Any]])
        #expect(stats.count == 1)
        #expect(stats.first?["key_check"] as? String == "correct")
        #expect((stats.first?["numbers"] as? [String: Int]) == ["processed": 1, "flagged": 1])
        // Read after the valid action: flagged 1 against 1 valid.
        #expect(stats.first?["valid_actions"] as? Int == 1)
        #expect(detail["valid_actions"] as? Int == 1)
    }

    @Test("simulated teams join their groups, score, and the sloppy ones make mistakes")
    func simulatedTeams() async throws {
        let running = try RunningApp(generatorRate: 40, simulatedTeams: 4)
        let client = try running.client()
        func rows() -> [[String: Any]] {
            ((try? client.get("/api/leaderboard"))?.json?["teams"] as? [[String: Any]]) ?? []
        }
        #expect(await eventuallyAsync(timeout: .seconds(30)) {
            let board = rows().filter { ["team-1", "team-2", "team-3", "team-4"].contains($0["team"] as? String ?? "") }
            return board.count == 4 && board.allSatisfy { ($0["valid"] as? Int ?? 0) > 0 && ($0["connected"] as? Bool ?? false) }
        })
        // team-4 runs the careless profile: wrong reasons, duplicates, ghosts.
        #expect(await eventuallyAsync(timeout: .seconds(20)) {
            (rows().first { $0["team"] as? String == "team-4" }?["mistakes"] as? Int ?? 0) > 0
        })
        // Teams without a simulation stay at zero.
        #expect(rows().first { $0["team"] as? String == "team-9" }?["points"] as? Int == 0)
        // Through the gateway the embedded cluster's groups are seen: team-2 runs two
        // instances, team-3 three; each shows its members with their partitions, and
        // Scaled (the tutorial's step 4) is earned on the default run.
        #expect(await eventuallyAsync(timeout: .seconds(30)) {
            let board = rows()
            func row(_ team: String) -> [String: Any]? { board.first { $0["team"] as? String == team } }
            func badges(_ team: String) -> Set<String> { Set((row(team)?["achievements"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }) }
            return row("team-1")?["members"] as? Int == 1 && row("team-2")?["members"] as? Int == 2 && row("team-3")?["members"] as? Int == 3
                && (row("team-3")?["member_partitions"] as? [[Int]])?.flatMap { $0 }.sorted() == [0, 1, 2, 3, 4]
                && badges("team-2").contains("scaled") && badges("team-3").contains("scaled") && !badges("team-1").contains("scaled")
        })
        let board = try #require(try client.get("/api/leaderboard").json)
        #expect((board["group_inspection"] as? String)?.hasPrefix("groups observed by the gateway") == true)
        #expect(board["groups_described"] as? Bool == true)
    }

    @Test("a class doing the watchlist variant: simulated teams publish it keyed by company, unkeyed and wrongly keyed ones are told apart")
    func simulatedWatchlist() async throws {
        var workshop = Workshop.default
        workshop.finalStep = .watchlist
        let running = try RunningApp(generatorRate: 40, simulatedTeams: 4, workshop: workshop)
        let client = try running.client()
        func records() -> [[String: Any]] { ((try? client.get("/api/watchlist"))?.json?["records"] as? [[String: Any]]) ?? [] }
        func checks(_ team: String) -> Set<String> { Set(records().filter { $0["team"] as? String == team }.compactMap { $0["key_check"] as? String }) }
        // careful keys by company; unkeyed (team-3) leaves the key out; careless (team-4) keys by team.
        #expect(await eventuallyAsync(timeout: .seconds(30)) {
            checks("team-1") == ["correct"] && checks("team-3") == ["missing"] && checks("team-4") == ["wrong"]
        })
        let teamOne = try #require(try client.get("/api/teams/team-1").json)
        #expect(((teamOne["standing"] as? [String: Any])?["achievements"] as? [[String: Any]])?.contains { $0["id"] as? String == "watchlist" } == true)
        // No team_stats in this variant.
        #expect((try client.get("/api/team-stats").json?["records"] as? [Any])?.isEmpty == true)
    }

    @Test("instructor routes: off without a token, 401 with a missing or wrong one, work with the right one")
    func adminRoutes() throws {
        let closed = try RunningApp()
        let response = try closed.client().get("/api/admin/generator")
        #expect(response.status == 403)
        #expect(response.errorCode == "admin_disabled")

        // An empty token (the command line refuses it too) keeps the routes off: a bare
        // `Bearer ` must not open them.
        let empty = try RunningApp(adminToken: "")
        let bare = try empty.client().request("GET", "/api/admin/generator", headers: ["Authorization": "Bearer "])
        #expect(bare.status == 403)

        let running = try RunningApp(adminToken: "s3cret")
        let client = try running.client()
        #expect(try client.get("/api/admin/generator").status == 401)
        #expect(try client.request("GET", "/api/admin/generator", headers: ["Authorization": "Bearer wrong"]).status == 401)
        // Same length, last byte wrong; and the token without its scheme.
        #expect(try client.request("GET", "/api/admin/generator", headers: ["Authorization": "Bearer s3creT"]).status == 401)
        #expect(try client.request("GET", "/api/admin/generator", headers: ["Authorization": "s3cret"]).status == 401)
        #expect(try client.request("GET", "/api/admin/generator", headers: ["Authorization": "Bearer  s3cret"]).status == 401)
        // The scheme is case-insensitive.
        #expect(try client.request("GET", "/api/admin/generator", headers: ["Authorization": "bearer s3cret"]).status == 200)
        let auth = ["Authorization": "Bearer s3cret", "Content-Type": "application/json"]
        let settings = try client.request("GET", "/api/admin/generator", headers: auth)
        #expect(settings.status == 200)
        #expect(settings.json?["paused"] as? Bool == true)
        let changed = try client.request("POST", "/api/admin/generator", headers: auth, body: Array(#"{"rate":50,"paused":false}"#.utf8))
        #expect(changed.status == 200)
        #expect(changed.json?["rate"] as? Double == 50)
        #expect(eventually(timeout: .seconds(5)) {
            ((try? client.get("/api/leaderboard"))?.json?["known_users"] as? Int ?? 0) > 10
        })
        #expect(try client.request("POST", "/api/admin/generator", headers: auth, body: Array(#"{"rate":"fast"}"#.utf8)).status == 400)
        #expect(try client.request("POST", "/api/admin/generator", headers: ["Content-Type": "application/json"], body: Array(#"{"paused":true}"#.utf8)).status == 401)
    }

    @Test("instructor routes resize the simulated class and reset the session view; both refuse a missing token")
    func simulatorAndReset() async throws {
        let running = try RunningApp(generatorRate: 40, adminToken: "s3cret")
        let client = try running.client()
        let auth = ["Authorization": "Bearer s3cret", "Content-Type": "application/json"]
        func rows() -> [[String: Any]] { ((try? client.get("/api/leaderboard"))?.json?["teams"] as? [[String: Any]]) ?? [] }
        func row(_ team: String) -> [String: Any]? { rows().first { $0["team"] as? String == team } }

        let idle = try client.request("GET", "/api/admin/simulator", headers: auth)
        #expect(idle.status == 200)
        #expect((idle.json?["teams"] as? [Any])?.isEmpty == true)
        #expect(idle.json?["maximum"] as? Int == 15)
        #expect(try client.request("POST", "/api/admin/simulator", headers: ["Content-Type": "application/json"], body: Array(#"{"teams":2}"#.utf8)).status == 401)
        #expect(try client.request("POST", "/api/admin/simulator", headers: auth, body: Array(#"{"teams":16}"#.utf8)).status == 400)
        #expect(try client.request("POST", "/api/admin/simulator", headers: auth, body: Array(#"{"teams":"two"}"#.utf8)).status == 400)

        func simulator() -> [String: Any]? { (try? client.request("GET", "/api/admin/simulator", headers: auth))?.json }
        let started = try client.request("POST", "/api/admin/simulator", headers: auth, body: Array(#"{"teams":2}"#.utf8))
        #expect(started.status == 202)
        #expect(await eventuallyAsync(timeout: .seconds(10)) { simulator()?["resizing_to"] is NSNull && (simulator()?["teams"] as? [Any])?.count == 2 })
        let teams = try #require(simulator()?["teams"] as? [[String: Any]])
        #expect(teams.compactMap { $0["team"] as? String } == ["team-1", "team-2"])
        #expect(teams.compactMap { $0["instances"] as? Int } == [1, 2])
        #expect(simulator()?["last_error"] is NSNull)
        #expect(await eventuallyAsync(timeout: .seconds(30)) { (row("team-1")?["valid"] as? Int ?? 0) > 0 && (row("team-2")?["valid"] as? Int ?? 0) > 0 })

        #expect(try client.request("POST", "/api/admin/simulator", headers: auth, body: Array(#"{"teams":0}"#.utf8)).status == 202)
        #expect(await eventuallyAsync(timeout: .seconds(15)) { simulator()?["resizing_to"] is NSNull && (simulator()?["teams"] as? [Any])?.isEmpty == true })

        #expect(try client.request("POST", "/api/admin/reset", headers: ["Content-Length": "0"]).status == 401)
        let reset = try client.request("POST", "/api/admin/reset", headers: ["Authorization": "Bearer s3cret", "Content-Length": "0"])
        #expect(reset.status == 200)
        let startedAt = try #require(reset.json?["session_started_at"] as? Int)
        let board = try #require(try client.get("/api/leaderboard").json)
        #expect(board["session_started_at"] as? Int == startedAt)
        // Scores, mistakes and the record-based achievements start over. (Connected and
        // First Blood may come back within a second: the groups still hold commits.)
        let after = (board["teams"] as? [[String: Any]]) ?? []
        #expect(after.count == 15)
        #expect(after.allSatisfy { ($0["valid"] as? Int) == 0 && ($0["mistakes"] as? Int) == 0 })
        let recordBadges = after.flatMap { ($0["achievements"] as? [[String: Any]]) ?? [] }.compactMap { $0["id"] as? String }
            .filter { !["connected", "first_blood"].contains($0) }
        #expect(recordBadges.isEmpty, "\(recordBadges)")
    }
}


@Suite("The leaderboard survives a restart", .serialized)
struct LeaderboardRestartTests {
    /// Anyone can produce to leaderboard_state: a team record with a count of Int.max and
    /// a `_board` record closing its round made the first report after a start overflow,
    /// on every start.
    @Test("a forged snapshot is ignored at start: the board is rebuilt from its topics and reports")
    func forgedSnapshot() async throws {
        let cluster = try EmbeddedKafka(topics: [KafkaTopicSpec("user-timeline", partitions: 6)] + Self.workshopTopics, logger: quietLogger)
        defer { cluster.stop() }
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        defer { producer.close() }
        let team = #"{"round":1,"team":{"valid":9223372036854775807,"streak":0,"bestStreak":0,"mistakes":{"ghost_user":1},"flagged":[],"sent":[],"stats":{"records":0,"correct_key":0,"missing_key":0,"wrong_key":0,"invalid":0},"watchlist":{"records":0,"correct_key":0,"missing_key":0,"wrong_key":0,"invalid":0},"connected":false,"lagWasHigh":false,"unlocked":{}}}"#
        _ = try await producer.send(topic: "leaderboard_state", key: Array("team-1".utf8), value: Array(team.utf8))
        _ = try await producer.send(topic: "leaderboard_state", key: Array("_board".utf8), value: Array(#"{"round":1,"offsets":[],"unknown_team_actions":9223372036854775807}"#.utf8))
        _ = try await producer.send(topic: "actions", key: nil, value: Array(#"{"team":"nope","customer":"a","type":"t","reason":"r"}"#.utf8))
        let running = try RunningApp(bootstrapServers: cluster.bootstrapServers, generatorRate: 20)
        #expect(running.app.waitUntilReady(timeout: .seconds(20)))
        let client = try running.client()
        #expect(await eventuallyAsync(timeout: .seconds(10)) { ((try? client.get("/api/leaderboard"))?.json?["unknown_team_actions"] as? Int) == 1 })
        try await Task.sleep(for: .seconds(1))  // several report rounds
        let board = try #require(try client.get("/api/leaderboard").json)
        #expect(board["restored_from_snapshot_at"] == nil || board["restored_from_snapshot_at"] is NSNull)
        let first = (board["teams"] as? [[String: Any]])?.first { $0["team"] as? String == "team-1" }
        #expect(first?["valid"] as? Int == 0)
    }

    @Test("restart against the same cluster: the board comes back from its snapshot, the same, and goes on")
    func restart() async throws {
        let cluster = try EmbeddedKafka(topics: [KafkaTopicSpec("user-timeline", partitions: 6)] + Self.workshopTopics, logger: quietLogger)
        defer { cluster.stop() }
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        defer { producer.close() }
        func send(_ topic: String, _ value: String, key: String? = nil) async throws {
            _ = try await producer.send(topic: topic, key: key.map { Array($0.utf8) }, value: Array(value.utf8))
        }
        for index in 0..<3 {
            try await send("new_users", #"{"email":"r\#(index)@x.org","pack":"free","avatar":"https://x.org/a.png","name":"R","time_zone":"America/Lima","industry":"Retail","profession":"teacher","field":"Arts","user_agent":"Firefox","credit_card_number":"4111","credit":0,"premium":false}"#)
        }
        try await send("actions", #"{"customer":"r0@x.org","type":"CONTACT_CUSTOMER","reason":"UPGRADE_FREE","team":"team-15"}"#)
        try await send("actions", #"{"customer":"r1@x.org","type":"CONTACT_CUSTOMER","reason":"WRONG","team":"team-15"}"#)
        try await send("team_stats", #"{"team":"team-15","processed":3,"flagged":1}"#, key: "team-15")

        func board(_ client: TestHTTPClient) -> [String: Any]? { (try? client.get("/api/leaderboard"))?.json }
        func team15(_ board: [String: Any]?) -> [String: Any]? { (board?["teams"] as? [[String: Any]])?.first { $0["team"] as? String == "team-15" } }

        var before: [String: Any]?
        do {
            let first = try RunningApp(bootstrapServers: cluster.bootstrapServers)
            let client = try first.client()
            #expect(await eventuallyAsync(timeout: .seconds(15)) { (team15(board(client))?["mistakes"] as? Int) == 1 && (team15(board(client))?["valid"] as? Int) == 1 })
            #expect(board(client)?["restored_from_snapshot_at"] == nil || board(client)?["restored_from_snapshot_at"] is NSNull)
            // A snapshot is written about a second after the last unlock.
            let admin = try KafkaAdmin(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
            defer { admin.close() }
            #expect(await eventuallyAsync(timeout: .seconds(10)) { ((try? admin.watermarks(topic: "leaderboard_state", partition: 0))?.high ?? 0) >= 16 })
            try? await Task.sleep(for: .milliseconds(500))
            before = team15(board(client))
        }
        var second: RunningApp? = try RunningApp(bootstrapServers: cluster.bootstrapServers, adminToken: "t")
        let client = try #require(try second?.client())
        #expect(await eventuallyAsync(timeout: .seconds(15)) { board(client)?["restored_from_snapshot_at"] as? Int != nil })
        let after = try #require(team15(board(client)))
        let beforeRow = try #require(before)
        for field in ["points", "valid", "mistakes", "streak", "rank"] {
            #expect(after[field] as? Int == beforeRow[field] as? Int, "\(field)")
        }
        let badges = { (row: [String: Any]) in ((row["achievements"] as? [[String: Any]]) ?? []).map { "\($0["id"] ?? "")@\($0["at"] ?? "")" }.sorted() }
        #expect(badges(after) == badges(beforeRow))
        // And it goes on: the third user flagged now scores; the first again is a duplicate.
        try await send("actions", #"{"customer":"r2@x.org","type":"CONTACT_CUSTOMER","reason":"UPGRADE_FREE","team":"team-15"}"#)
        try await send("actions", #"{"customer":"r0@x.org","type":"CONTACT_CUSTOMER","reason":"UPGRADE_FREE","team":"team-15"}"#)
        #expect(await eventuallyAsync(timeout: .seconds(10)) { (team15(board(client))?["valid"] as? Int) == 2 && (team15(board(client))?["mistakes"] as? Int) == 2 })

        // A session reset is snapshotted at once: the next start keeps it.
        let reset = try client.request("POST", "/api/admin/reset", headers: ["Authorization": "Bearer t", "Content-Length": "0"])
        let startedAt = try #require(reset.json?["session_started_at"] as? Int)
        try? await Task.sleep(for: .milliseconds(500))  // the snapshot's records reach the broker
        second = nil
        let third = try RunningApp(bootstrapServers: cluster.bootstrapServers)
        let thirdClient = try third.client()
        #expect(await eventuallyAsync(timeout: .seconds(15)) { board(thirdClient)?["restored_from_snapshot_at"] as? Int != nil })
        let restored = try #require(board(thirdClient))
        #expect(restored["session_started_at"] as? Int == startedAt)
        #expect(team15(restored)?["valid"] as? Int == 0)
        #expect(team15(restored)?["points"] as? Int == 0)
    }

    /// The board merges its input partitions by record timestamp, so a rebuild applies
    /// the records in the order they were produced, not the order the consumer happened
    /// to interleave partitions: the streak (which depends on that order across the
    /// five `actions` partitions) and every unlock time come back the same.
    @Test("with no snapshot to load, a restarted board is rebuilt from the earliest offsets: the same board, streak and unlock times included")
    func restartWithoutSnapshot() async throws {
        let inputs = ["new_users", "actions", "team_stats", "watchlist"].map { KafkaTopicSpec($0, partitions: 5) }
        let cluster = try EmbeddedKafka(topics: [KafkaTopicSpec("user-timeline", partitions: 6)] + inputs, logger: quietLogger)
        defer { cluster.stop() }
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        defer { producer.close() }
        let reasons = ["SUSPICIOUS_NAME", "SUSPICIOUS_NAME", "NOPE", "SUSPICIOUS_NAME", "SUSPICIOUS_NAME", "NOPE", "SUSPICIOUS_NAME", "SUSPICIOUS_NAME"]
        for index in reasons.indices {
            _ = try await producer.send(topic: "new_users", key: nil, value: Array(#"{"email":"e\#(index)@x.org","name":"John Doe","pack":"premium","avatar":"https://x.org/a.png","time_zone":"America/Lima","industry":"Retail","profession":"teacher","field":"Arts","user_agent":"Firefox","credit_card_number":"4111","credit":0,"premium":false}"#.utf8))
        }
        // Unkeyed actions spread over the five partitions; a few ms apart so that their
        // timestamps say in which order they were produced.
        for (index, reason) in reasons.enumerated() {
            try await Task.sleep(for: .milliseconds(3))
            _ = try await producer.send(topic: "actions", key: nil, value: Array(#"{"customer":"e\#(index)@x.org","type":"BAN_CUSTOMER","reason":"\#(reason)","team":"team-14"}"#.utf8))
        }
        func team14(_ client: TestHTTPClient) -> [String: Any]? {
            ((try? client.get("/api/leaderboard"))?.json?["teams"] as? [[String: Any]])?.first { $0["team"] as? String == "team-14" }
        }
        func summary(_ row: [String: Any]) -> String {
            let badges = ((row["achievements"] as? [[String: Any]]) ?? []).map { "\($0["id"] ?? "")@\($0["at"] ?? "")" }.sorted()
            return "\(row["points"] ?? "") \(row["valid"] ?? "") \(row["mistakes"] ?? "") \(row["streak"] ?? "") \(badges)"
        }
        var first = ""
        do {
            let running = try RunningApp(bootstrapServers: cluster.bootstrapServers)
            let client = try running.client()
            #expect(await eventuallyAsync(timeout: .seconds(15)) { (team14(client)?["valid"] as? Int) == 6 && (team14(client)?["mistakes"] as? Int) == 2 })
            let row = try #require(team14(client))
            // In production order the last mistake is followed by two valid actions.
            #expect(row["streak"] as? Int == 2)
            first = summary(row)
        }
        // The first run may have written snapshots (the embedded cluster creates a topic
        // on first produce): the second reads its snapshots from a topic that has none.
        var fresh = Workshop.default
        fresh.topics.leaderboardState = "leaderboard_state_unused"
        let running = try RunningApp(bootstrapServers: cluster.bootstrapServers, workshop: fresh)
        let client = try running.client()
        #expect(await eventuallyAsync(timeout: .seconds(15)) { (team14(client)?["valid"] as? Int) == 6 && (team14(client)?["mistakes"] as? Int) == 2 })
        let second = summary(try #require(team14(client)))
        #expect(second == first, "after: \(second) before: \(first)")
        let board = try #require(try client.get("/api/leaderboard").json)
        #expect(board["restored_from_snapshot_at"] == nil || board["restored_from_snapshot_at"] is NSNull)
    }

    static let workshopTopics = ["new_users", "actions", "team_stats", "watchlist"].map { KafkaTopicSpec($0, partitions: 5) }
        + [KafkaTopicSpec("leaderboard_state", partitions: 1)]
}
