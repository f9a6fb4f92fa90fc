import Foundation
import HTTPTestSupport
import Kafka
import Synchronization
import Testing

@Suite("Who is connected through the Kafka gateway")
struct ConnectedClientsTests {
    static func frame(apiKey: Int16, version: Int16, clientID: String, body: [UInt8] = []) -> [UInt8] {
        func int16(_ value: Int16) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
        func int32(_ value: Int32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
        let request = int16(apiKey) + int16(version) + int32(1) + int16(Int16(clientID.utf8.count)) + Array(clientID.utf8) + body
        return int32(Int32(request.count)) + request
    }

    @Test("a team's consumer is listed with its team, connections and requests per second; a refused request shows as its client's last error")
    func clients() async throws {
        let running = try RunningApp()
        let bootstrap = running.app.bootstrapServers
        var settings = KafkaConsumerConfiguration(mode: .group(id: "team-3", topics: ["new_users"]))
        settings.sessionTimeout = .seconds(6)
        let consumer = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: bootstrap, clientID: "laptop-of-team-3"), consumer: settings, logger: quietLogger)
        defer { consumer.close() }
        consumer.run { _ in }

        // A curious client: one connection kept open, one that asks what the cluster
        // does not serve (ListGroups) and is closed for it.
        let host = String(bootstrap[..<(bootstrap.lastIndex(of: ":") ?? bootstrap.endIndex)])
        let port = Int(bootstrap[bootstrap.index(after: bootstrap.lastIndex(of: ":") ?? bootstrap.startIndex)...]) ?? 0
        let open = try BlockingSocket(host: host, port: port, timeoutSeconds: 5)
        try open.write(Self.frame(apiKey: 18, version: 0, clientID: "curious"))
        let refused = try BlockingSocket(host: host, port: port, timeoutSeconds: 5)
        try refused.write(Self.frame(apiKey: 16, version: 0, clientID: "curious"))
        _ = try? refused.readToEnd()

        // A fresh HTTP connection per look: a kept-alive one the server closed would fail
        // every later look.
        func rows() -> [[String: Any]] { ((try? running.client().get("/api/clients"))?.json?["clients"] as? [[String: Any]]) ?? [] }
        func row(_ clientID: String) -> [String: Any]? { rows().first { $0["client_id"] as? String == clientID } }
        #expect(await eventuallyAsync(timeout: .seconds(30)) {
            let team = row("laptop-of-team-3")
            return team?["team"] as? String == "team-3" && (team?["connections"] as? Int ?? 0) >= 1
        }, "\(rows())")
        #expect(await eventuallyAsync(timeout: .seconds(30)) {
            (row("laptop-of-team-3")?["requests_per_second"] as? [String: Double])?.keys.contains("Heartbeat") == true
        }, "\(rows())")
        #expect(await eventuallyAsync(timeout: .seconds(10)) {
            (row("curious")?["last_error"] as? String)?.contains("API 16") == true
        }, "\(rows())")
        let detail = try #require(try running.client().get("/api/teams/team-3").json)
        #expect((detail["clients"] as? [[String: Any]])?.first?["client_id"] as? String == "laptop-of-team-3")
        _ = open
    }
}
