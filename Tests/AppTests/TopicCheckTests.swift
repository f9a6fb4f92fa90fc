@testable import App
import Foundation
import HTTPTestSupport
import Kafka
import Leaderboard
import Testing

@Suite("The topic check at start")
struct TopicCheckTests {
    static let expected = Topics.expected(workshop: .default)
    static let everything = Dictionary(uniqueKeysWithValues: expected.map { ($0.name, $0.partitions) })
    static let policies = Dictionary(uniqueKeysWithValues: expected.map { ($0.name, ["cleanup.policy": $0.config["cleanup.policy"] ?? "delete", "retention.ms": "604800000"]) })

    static func check(_ found: TopicCheck.Found) -> TopicCheck {
        TopicCheck(expected: expected, found: found, bootstrap: "kafka:9092", timelineTopic: "user-timeline")
    }

    @Test("a cluster made as the tutorial says has no problem")
    func clean() {
        let check = Self.check(.init(partitions: Self.everything, configs: Self.policies))
        #expect(check.problems.isEmpty)
        #expect(check.notes.isEmpty)
        // compact,delete compacts too.
        var policies = Self.policies
        policies["team_stats"]?["cleanup.policy"] = "compact,delete"
        #expect(Self.check(.init(partitions: Self.everything, configs: policies)).problems.isEmpty)
    }

    @Test("a missing topic the server could not create: said, with the command that creates it")
    func missing() throws {
        var partitions = Self.everything
        partitions["watchlist"] = nil
        let check = Self.check(.init(partitions: partitions, creationError: "topic_authorization_failed: not allowed", configs: Self.policies))
        let problem = try #require(check.problems.first)
        #expect(check.problems.count == 1)
        #expect(problem.topic == "watchlist")
        #expect(problem.problem == "topic watchlist does not exist, and the server could not create it (topic_authorization_failed: not allowed)")
        #expect(problem.fix.hasPrefix("create it: kafka-topics.sh --bootstrap-server kafka:9092 --create --topic watchlist --partitions 5 --config cleanup.policy=compact"))
        // Refused one by one: each missing topic with its own reason.
        let one = Self.check(.init(partitions: partitions, creationRefused: ["watchlist": "topic_authorization_failed: no Create"], configs: Self.policies))
        #expect(one.problems.first?.problem == "topic watchlist does not exist, and the server could not create it (topic_authorization_failed: no Create)")
        // Created by the server just now: no problem.
        #expect(Self.check(.init(partitions: partitions, created: ["watchlist"], configs: Self.policies)).problems.isEmpty)
    }

    @Test("partition counts: fewer can grow or be configured; more can only be configured")
    func partitions() throws {
        var partitions = Self.everything
        partitions["user-timeline"] = 3
        partitions["new_users"] = 8
        let check = Self.check(.init(partitions: partitions, configs: Self.policies))
        let timeline = try #require(check.problems.first { $0.topic == "user-timeline" })
        #expect(timeline.problem == "topic user-timeline has 3 partitions; this server is set for 6")
        #expect(timeline.fix == "start the server with --timeline-partitions 3, or add partitions: kafka-topics.sh --bootstrap-server kafka:9092 --alter --topic user-timeline --partitions 6")
        let users = try #require(check.problems.first { $0.topic == "new_users" })
        #expect(users.problem == "topic new_users has 8 partitions; the workshop expects 5")
        #expect(users.fix == #"start the server with "partitions": 8 under "topics" in the workshop file"#)
    }

    @Test("cleanup policy: a compacted topic that deletes, a deleting one that compacts")
    func cleanupPolicy() throws {
        var policies = Self.policies
        policies["team_stats"]?["cleanup.policy"] = "delete"
        policies["actions"]?["cleanup.policy"] = "compact"
        let check = Self.check(.init(partitions: Self.everything, configs: policies))
        #expect(check.problems.map(\.topic).sorted() == ["actions", "team_stats"])
        let stats = try #require(check.problems.first { $0.topic == "team_stats" })
        #expect(stats.problem.hasPrefix("topic team_stats has cleanup.policy=delete; the server expects compact"))
        #expect(stats.fix == "kafka-configs.sh --bootstrap-server kafka:9092 --alter --entity-type topics --entity-name team_stats --add-config cleanup.policy=compact")
        // Settings that cannot be read are a note, not a problem.
        let unread = Self.check(.init(partitions: Self.everything, configError: "timed_out: no controller"))
        #expect(unread.problems.isEmpty)
        #expect(unread.notes == ["cleanup policies not checked: the cluster did not describe its topics (timed_out: no controller)"])
        // One topic the cluster would not describe: a note for it, the others checked.
        var described = Self.policies
        described["team_stats"] = nil
        described["actions"]?["cleanup.policy"] = "compact"
        let partly = Self.check(.init(partitions: Self.everything, configs: described, configRefused: ["team_stats": "topic_authorization_failed: no DescribeConfigs"]))
        #expect(partly.problems.map(\.topic) == ["actions"])
        #expect(partly.notes == ["cleanup policy of team_stats not checked: the cluster would not describe it (topic_authorization_failed: no DescribeConfigs)"])
    }

    /// The embedded cluster stands in for a hand-made real one: it cannot create topics
    /// or describe their settings, which the check reports as it would a refusal.
    @Test("against a cluster missing watchlist and with user-timeline at 3 partitions: /api/status says what is wrong and how to fix it")
    func againstACluster() async throws {
        let topics = Topics.expected(workshop: .default)
            .filter { $0.name != "watchlist" }
            .map { $0.name == "user-timeline" ? KafkaTopicSpec("user-timeline", partitions: 3) : $0 }
        let cluster = try EmbeddedKafka(topics: topics, logger: quietLogger)
        defer { cluster.stop() }
        let running = try RunningApp(bootstrapServers: cluster.bootstrapServers)
        var check: [String: Any]?
        // One check asks CreateTopics and DescribeConfigs, which this cluster leaves
        // unanswered (5 s and 3 s); under the parallel suite's load, a retry may follow.
        let done = await eventuallyAsync(timeout: .seconds(60)) {
            check = ((try? running.client().get("/api/status"))?.json?["kafka"] as? [String: Any])?["topic_check"] as? [String: Any]
            return check != nil
        }
        #expect(done)
        let problems = check?["problems"] as? [[String: String]] ?? []
        #expect(problems.map { $0["topic"] ?? "" }.sorted() == ["user-timeline", "watchlist"], "\(problems)")
        let watchlist = problems.first { $0["topic"] == "watchlist" }
        #expect(watchlist?["problem"]?.hasPrefix("topic watchlist does not exist, and the server could not create it") == true, "\(watchlist ?? [:])")
        #expect(watchlist?["fix"]?.contains("--create --topic watchlist --partitions 5 --config cleanup.policy=compact") == true)
        let timeline = problems.first { $0["topic"] == "user-timeline" }
        #expect(timeline?["problem"] == "topic user-timeline has 3 partitions; this server is set for 6")
        let notes = check?["notes"] as? [String] ?? []
        #expect(notes.count == 1 && notes.first?.hasPrefix("cleanup policies not checked") == true, "\(notes)")
    }

    /// Readiness waited for as many partitions as the flag said, so a topic with fewer
    /// never became ready and every post got 503 (found in review).
    @Test("user-timeline with fewer partitions than --timeline-partitions: a warning, not an outage; posts are taken")
    func fewerPartitionsStillServes() async throws {
        let topics = Topics.expected(workshop: .default).map { $0.name == "user-timeline" ? KafkaTopicSpec("user-timeline", partitions: 3) : $0 }
        let cluster = try EmbeddedKafka(topics: topics, logger: quietLogger)
        defer { cluster.stop() }
        let running = try RunningApp(bootstrapServers: cluster.bootstrapServers)
        var reason = ""
        let ready = await eventuallyAsync(timeout: .seconds(30)) {
            guard let response = try? running.client().get("/readyz") else { return false }
            reason = response.text
            return response.status == 200
        }
        #expect(ready, "\(reason)")
        #expect(try running.client().postJSON("/api/send-message", #"{"user_id":"ada","content":"three partitions"}"#).status == 201)
    }
}
