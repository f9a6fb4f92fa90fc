import App
import Foundation
import HTTPTestSupport
import Kafka
import Testing

/// `GET /metrics`, read as Prometheus reads it: every line parsed as the text
/// exposition format, and the series checked to move by exactly what was done.
@Suite("Prometheus metrics", .serialized)
struct MetricsTests {
    @Test("/metrics parses as Prometheus text; requests, acks, lag, WebSocket clients, judged and malformed records move with traffic")
    func countersMove() async throws {
        let running = try RunningApp()
        let client = try running.client()
        // Each scrape on a connection of its own, as Prometheus scrapes: a slow answer
        // under the parallel suite's load must not leave a later scrape reading its bytes.
        func scrape() throws -> Scrape { try Scrape(running.client().get("/metrics")) }
        let before = try scrape()
        #expect(before.contentType.hasPrefix("text/plain; version=0.0.4"))

        for index in 0..<3 {
            #expect(try client.postJSON("/api/send-message", #"{"user_id":"alice","content":"post \#(index)"}"#).status == 201)
        }
        #expect(try client.postJSON("/api/send-message", #"{"content":"no user"}"#).status == 400)
        // A path a stranger made up is counted under one label, never its own series.
        #expect(try client.get("/no/such/\(UUID().uuidString)").status == 404)
        let socket = try TestWebSocket(port: running.port)
        defer { socket.close() }

        // Forged records, straight to the topics.
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: running.app.bootstrapServers), logger: quietLogger)
        defer { producer.close() }
        _ = try await producer.send(topic: "user-timeline", key: Array("mallory".utf8), value: Array("not json".utf8))
        _ = try await producer.send(topic: "actions", key: nil, value: Array("{broken".utf8))
        _ = try await producer.send(topic: "actions", key: nil, value: Array(#"{"customer":"ghost@nowhere.org","type":"CONTACT_CUSTOMER","reason":"UPGRADE_FREE","team":"team-7"}"#.utf8))
        _ = try await producer.send(topic: "actions", key: nil, value: Array(#"{"customer":"x@y.org","type":"t","reason":"r","team":"evil\"} 1\n# TYPE x counter"}"#.utf8))
        _ = try await producer.send(topic: "team_stats", key: Array("team-2".utf8), value: Array(#"{"team":"team-2","processed":3,"flagged":1}"#.utf8))

        var after = before
        let settled = await eventuallyAsync(timeout: .seconds(15)) {
            guard let latest = try? scrape() else { return false }
            after = latest
            return latest["streamsocial_malformed_records_total", ["topic": "user-timeline"]] == 1
                && latest["streamsocial_records_judged_total", ["topic": "actions", "team": "team-7", "outcome": "ghost_user"]] == 1
                && latest["streamsocial_records_judged_total", ["topic": "actions", "team": "unknown", "outcome": "unknown_team"]] == 1
                && latest["streamsocial_records_judged_total", ["topic": "team_stats", "team": "team-2", "outcome": "key_correct"]] == 1
                && latest["websocket_clients", [:]] == 1
        }
        #expect(settled, "\(after.samples.keys.sorted())")
        #expect(after.problems.isEmpty, "\(after.problems)")

        // Exactly what was done, counted once.
        func moved(_ name: String, _ labels: [String: String]) -> Double {
            (after[name, labels] ?? 0) - (before[name, labels] ?? 0)
        }
        #expect(moved("http_requests_total", ["route": "/api/send-message", "method": "POST", "status": "201"]) == 3)
        #expect(moved("http_requests_total", ["route": "/api/send-message", "method": "POST", "status": "400"]) == 1)
        #expect(moved("http_requests_total", ["route": "unmatched", "method": "GET", "status": "404"]) == 1)
        #expect(after.samples.keys.allSatisfy { !$0.contains("no/such") })
        #expect(moved("http_request_duration_seconds_count", ["route": "/api/send-message", "method": "POST"]) == 4)
        #expect(moved("kafka_produce_acks_total", ["topic": "user-timeline"]) == 3)
        #expect(moved("streamsocial_malformed_records_total", ["topic": "actions"]) == 1)
        #expect(moved("streamsocial_records_judged_total", ["topic": "actions", "team": "unknown", "outcome": "parse_error"]) == 1)
        // A team name no workshop has is `unknown`: a forged name adds no series.
        #expect(moved("streamsocial_records_judged_total", ["topic": "actions", "team": "unknown", "outcome": "unknown_team"]) == 1)
        #expect(after.samples.keys.allSatisfy { !$0.contains("evil") })
        // The timeline group's lag, one series per partition of user-timeline.
        let lagSeries = after.samples.keys.filter { $0.hasPrefix("kafka_consumer_lag{") && $0.contains(#"topic="user-timeline""#) }
        #expect(lagSeries.count == 6, "\(lagSeries)")

        // The histogram's buckets are cumulative and end at +Inf = count.
        let inf = after["http_request_duration_seconds_bucket", ["route": "/api/send-message", "method": "POST", "le": "+Inf"]]
        #expect(inf != nil && inf == after["http_request_duration_seconds_count", ["route": "/api/send-message", "method": "POST"]])

        // The load generator's reading of the post-path histograms: the three posts in
        // each stage the server measures (the socket stage: the frames this client got).
        let stages = ServerStages(before: [:], after: try ServerStages.scrape(host: "127.0.0.1", port: running.port))
        #expect(stages.stages.map(\.name) == ["ack", "read", "frame", "socket"])
        #expect(stages.stages.prefix(3).map(\.count) == [3, 3, 3], "\(stages.stages)")
        #expect(stages.stages.prefix(3).allSatisfy { ($0.p50 ?? 0) > 0 && ($0.max ?? 0) >= ($0.p99 ?? .infinity) })
        #expect((stages.stages.last?.count ?? 0) >= 1)

        socket.close()
        #expect(await eventuallyAsync { (try? scrape())?["websocket_clients", [:]] == 0 })
    }

    @Test("a team's consumer group has its lag per partition of new_users, once it committed")
    func teamLag() async throws {
        let running = try RunningApp(generatorRate: 20, simulatedTeams: 1)
        var series: [String] = []
        let seen = await eventuallyAsync(timeout: .seconds(20)) {
            let keys = (try? Scrape(running.client().get("/metrics")))?.samples.keys.map { $0 } ?? []
            series = keys.filter { $0.hasPrefix("kafka_consumer_lag{") && $0.contains(#"group="team-1""#) && $0.contains(#"topic="new_users""#) }
            return series.count == 5
        }
        #expect(seen, "\(series)")
    }
}

@Suite("The load generator's reading of the server's stages")
struct ServerStagesTests {
    /// The load generator reads whatever answers at the server's address: lines that are
    /// not the stage histograms, or are broken, are skipped, never trusted.
    @Test("garbage, broken labels and other series are ignored; the stage buckets are read")
    func garbageIsIgnored() {
        let text = """
        streamsocial_post_stage_seconds_bucket{stage="ack",le="0.005"} 3
        streamsocial_post_stage_seconds_bucket{stage="ack",le="+Inf"} 4
        streamsocial_post_stage_seconds_bucket{stage="ack",le="0.01"}
        streamsocial_post_stage_seconds_bucket{stage="ack",le=0.02} 9
        streamsocial_post_stage_seconds_bucket{stage="ack,le="0.03"} 9
        streamsocial_post_stage_seconds_bucket{stage="read",le="x"} 9
        streamsocial_post_stage_seconds_bucket{ 7
        other_bucket{stage="ack",le="0.5"} 8
        \u{0}\u{FF}}}}{{{"le"=
        websocket_frame_delay_seconds_bucket{le="0.001"} NaN-ish
        websocket_frame_delay_seconds_bucket{le="+Inf"} 2
        """
        let buckets = ServerStages.parse(text)
        #expect(buckets == ["ack": [0.005: 3, .infinity: 4], "socket": [.infinity: 2]])
        let stages = ServerStages(before: [:], after: buckets).stages
        // 3 of 4 under 5 ms: the median there; the 99th and the slowest above the last bound.
        #expect(stages.first?.name == "ack" && stages.first?.count == 4 && stages.first?.p50 == 5)
        #expect(stages.first?.p99 == nil && stages.first?.max == nil)
        #expect(stages.map(\.count) == [4, 0, 0, 2])
    }
}

/// One scrape parsed by the text format's rules: `# TYPE name kind` before a family's
/// samples, each sample `name{label="value",...} number`, label values escaped.
struct Scrape {
    var contentType: String
    /// `name{a="1",b="2"}` (labels sorted) → value.
    var samples: [String: Double] = [:]
    /// Lines that break the format.
    var problems: [String] = []

    init(_ response: TestResponse) throws {
        guard response.status == 200 else { throw TestClientError("GET /metrics: \(response.status)") }
        contentType = response.headers["content-type"] ?? ""
        var typed: [String: String] = [:]
        for line in response.text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                    problems.append(String(line))
                    continue
                }
                typed[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let (name, labels, value) = Self.sample(Substring(line)) else {
                problems.append(String(line))
                continue
            }
            let family = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) && typed[$0] == nil ? String($0.dropLast($1.count)) : $0 }
            if typed[family] == nil { problems.append("no TYPE before: \(line)") }
            samples[Self.key(name, labels)] = value
        }
    }

    subscript(name: String, labels: [String: String]) -> Double? {
        samples[Self.key(name, labels)]
    }

    static func key(_ name: String, _ labels: [String: String]) -> String {
        labels.isEmpty ? name : name + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",") + "}"
    }

    /// `name`, optional `{labels}`, one space, a number; nil when malformed.
    static func sample(_ line: Substring) -> (String, [String: String], Double)? {
        var rest = line[...]
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        guard let first = name.first, !first.isNumber else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                guard !label.isEmpty else { return nil }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\" {
                        guard let escaped = rest.first else { return nil }
                        rest = rest.dropFirst()
                        switch escaped {
                        case "n": value.append("\n")
                        case "\\", "\"": value.append(escaped)
                        default: return nil
                        }
                    } else {
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                labels[String(label)] = value
                if rest.first == "," { rest = rest.dropFirst() }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { return nil }
        let number = rest.dropFirst()
        let value: Double? = switch number {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(number)
        }
        guard let value else { return nil }
        return (String(name), labels, value)
    }
}
