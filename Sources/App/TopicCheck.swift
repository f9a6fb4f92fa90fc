import Foundation
import Kafka

/// What is wrong with the topics the server reads and writes on a real cluster, each
/// problem said plainly with its fix as a command: a newcomer's cluster made by hand
/// often has a topic missing, a partition count off, or `team_stats` not compacted.
struct TopicCheck: Sendable, Equatable, Encodable {
    struct Problem: Sendable, Equatable, Encodable {
        var topic: String
        var problem: String
        var fix: String
    }

    /// Where the server's own clients found each topic.
    struct Found: Sendable {
        /// Partition counts of the topics that exist.
        var partitions: [String: Int]
        /// Topics the server created just now.
        var created: Set<String> = []
        /// Why missing topics could not be created, if they could not: all of them (the
        /// request failed), or one by one.
        var creationError: String?
        var creationRefused: [String: String] = [:]
        /// Each topic's settings, or nil with `configError` when they cannot be read.
        var configs: [String: [String: String]]?
        var configError: String?
        /// Topics whose settings the brokers would not describe, with the reason.
        var configRefused: [String: String] = [:]
    }

    var problems: [Problem]
    /// What could not be checked, and why.
    var notes: [String]

    /// Checks `expected` against what was `found`. `bootstrap` goes into the commands;
    /// `timelineTopic` is the topic whose partition count is a server flag rather than
    /// the workshop file's.
    init(expected: [KafkaTopicSpec], found: Found, bootstrap: String, timelineTopic: String) {
        var problems: [Problem] = []
        var notes: [String] = []
        let tool = "--bootstrap-server \(bootstrap)"
        for topic in expected {
            guard let partitions = found.partitions[topic.name] else {
                if found.created.contains(topic.name) { continue }
                let settings = topic.config.sorted { $0.key < $1.key }.map { " --config \($0.key)=\($0.value)" }.joined()
                problems.append(Problem(
                    topic: topic.name,
                    problem: "topic \(topic.name) does not exist"
                        + ((found.creationRefused[topic.name] ?? found.creationError).map { ", and the server could not create it (\($0))" } ?? ""),
                    fix: "create it: kafka-topics.sh \(tool) --create --topic \(topic.name) --partitions \(topic.partitions)\(settings)"
                        + " (docker/create-topics.sh creates every topic the server needs)"
                ))
                continue
            }
            if partitions != topic.partitions {
                let setting = topic.name == timelineTopic ? "--timeline-partitions \(partitions)" : "\"partitions\": \(partitions) under \"topics\" in the workshop file"
                let who = topic.name == timelineTopic ? "this server is set for" : "the workshop expects"
                var fix = "start the server with \(setting)"
                if partitions < topic.partitions {
                    fix += ", or add partitions: kafka-topics.sh \(tool) --alter --topic \(topic.name) --partitions \(topic.partitions)"
                }
                problems.append(Problem(
                    topic: topic.name, problem: "topic \(topic.name) has \(partitions) partitions; \(who) \(topic.partitions)", fix: fix
                ))
            }
        }
        if let configs = found.configs {
            for topic in expected where found.partitions[topic.name] != nil {
                guard let settings = configs[topic.name] else { continue }
                let wanted = topic.config["cleanup.policy"] ?? "delete"
                let actual = settings["cleanup.policy"] ?? "delete"
                let policies = Set(actual.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                guard !policies.contains(wanted) || (wanted == "delete" && policies.contains("compact")) else { continue }
                let why = wanted == "compact"
                    ? "a consumer starting fresh reads every record instead of the latest per key, the lesson of this topic"
                    : "compaction drops all but the latest record per key, so older records of a key disappear"
                problems.append(Problem(
                    topic: topic.name,
                    problem: "topic \(topic.name) has cleanup.policy=\(actual); the server expects \(wanted): \(why)",
                    fix: "kafka-configs.sh \(tool) --alter --entity-type topics --entity-name \(topic.name) --add-config cleanup.policy=\(wanted)"
                ))
            }
            for topic in expected where found.partitions[topic.name] != nil {
                if let reason = found.configRefused[topic.name] {
                    notes.append("cleanup policy of \(topic.name) not checked: the cluster would not describe it (\(reason))")
                }
            }
        } else {
            notes.append("cleanup policies not checked: the cluster did not describe its topics (\(found.configError ?? "no answer"))")
        }
        self.problems = problems
        self.notes = notes
    }
}
