@testable import App
import Foundation
import Testing

@Suite("serve's settings from the config file, the environment and the flags")
struct ConfigurationSourcesTests {
    static func file(_ json: String) -> (String) -> [UInt8]? {
        { _ in Array(json.utf8) }
    }

    @Test("file first, then the environment, then the flags: the last given wins")
    func order() throws {
        let arguments = try ConfigurationSources.arguments(
            ["--config", "s.json", "--bootstrap-servers", "flag:9092"],
            environment: ["KAFKA_BOOTSTRAP_SERVERS": "env:9092", "KAFKA_SASL_PASSWORD": "hunter2", "KAFKA_SASL_MECHANISM": " ", "HOME": "/root"],
            readFile: Self.file(#"{"bootstrap-servers": "file:9092", "port": 8100}"#)
        )
        #expect(arguments == [
            "--bootstrap-servers", "file:9092", "--port", "8100",
            "--bootstrap-servers", "env:9092", "--kafka-config", "sasl.password=hunter2",
            "--config", "s.json", "--bootstrap-servers", "flag:9092",
        ])
        // Without a config file or environment: the flags as given.
        #expect(try ConfigurationSources.arguments(["--port", "1"], environment: [:]) == ["--port", "1"])
    }

    @Test("lists repeat their flag, an object gives key=value properties, numbers their text")
    func fileShapes() throws {
        let arguments = try ConfigurationSources.arguments(["--config=c.json"], environment: [:], readFile: Self.file(
            #"{"allow-origin": ["http://a", "http://b"], "kafka-config": {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256"}, "generator-rate": 2.5, "stop-timeout": 5}"#
        ))
        #expect(arguments == [
            "--allow-origin", "http://a", "--allow-origin", "http://b", "--generator-rate", "2.5",
            "--kafka-config", "sasl.mechanism=SCRAM-SHA-256", "--kafka-config", "security.protocol=SASL_SSL", "--stop-timeout", "5",
            "--config=c.json",
        ])
    }

    @Test("a file that is missing, not JSON, nests a config, or holds true/false or a nested list is refused by name", arguments: [
        (#"["port", 1]"#, "not a JSON object"),
        (#"{"config": "other.json"}"#, "cannot name another one"),
        (#"{"--port": 1}"#, "is not a flag name"),
        (#"{"port": true}"#, "takes a value, not true or false"),
        (#"{"allow-origin": [["x"]]}"#, "must be a string or a number"),
    ])
    func refused(json: String, reason: String) {
        do {
            _ = try ConfigurationSources.arguments(["--config", "bad.json"], environment: [:], readFile: Self.file(json))
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.description.hasPrefix("bad.json is not a valid config file: "))
            #expect(error.description.contains(reason), "\(error.description)")
        }
        #expect(throws: ConfigurationSources.Failure.unreadable("gone.json")) {
            try ConfigurationSources.arguments(["--config", "gone.json"], environment: [:], readFile: { _ in nil })
        }
    }

    @Test("secrets are redacted wherever properties are shown")
    func redaction() {
        let shown = ConfigurationSources.redacted([
            "sasl.password": "hunter2", "ssl.key.password": "k", "sasl.oauthbearer.client.secret": "s",
            "sasl.jaas.config": "j", "sasl.username": "team-1", "security.protocol": "SASL_SSL",
        ])
        #expect(shown["sasl.username"] == "team-1")
        #expect(shown["security.protocol"] == "SASL_SSL")
        #expect(["sasl.password", "ssl.key.password", "sasl.oauthbearer.client.secret", "sasl.jaas.config"].allSatisfy { shown[$0] == "(redacted)" })
        #expect(!shown.values.contains("hunter2"))
    }
}
