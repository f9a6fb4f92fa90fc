import App
import Foundation
import HTTPTestSupport
import Testing

@Suite("Many connections and long keep-alive sessions, through Kafka")
struct LoadTests {
    @Test("1,000 posts on one keep-alive connection: every one acknowledged, offsets in order")
    func keepAlive() throws {
        let running = try RunningApp()
        let client = try running.client()
        var lastOffset: [Int: Int] = [:]
        var acknowledged = 0
        for index in 0..<1000 {
            let response = try client.postJSON("/api/send-message", #"{"user_id":"user\#(index % 7)","content":"post \#(index)"}"#)
            guard response.status == 201, let partition = response.json?["partition"] as? Int, let offset = response.json?["offset"] as? Int else {
                Issue.record("post \(index): \(response.status) \(response.text)")
                continue
            }
            #expect(offset == (lastOffset[partition] ?? -1) + 1, "partition \(partition)")
            lastOffset[partition] = offset
            acknowledged += 1
        }
        #expect(acknowledged == 1000)
    }

    @Test("200 concurrent connections, each with a post in flight at once: all acknowledged")
    func concurrentConnections() throws {
        let running = try RunningApp()
        let clients = try (0..<200).map { _ in try running.client() }
        for (index, client) in clients.enumerated() {
            try client.send("POST", "/api/send-message", headers: ["Content-Type": "application/json"],
                            body: Array(#"{"user_id":"c\#(index)","content":"hello"}"#.utf8))
        }
        var offsets: Set<String> = []
        for client in clients {
            let response = try client.readResponse(method: "POST")
            #expect(response.status == 201)
            if let partition = response.json?["partition"] as? Int, let offset = response.json?["offset"] as? Int {
                offsets.insert("\(partition):\(offset)")
            }
        }
        // 200 distinct records: no acknowledgement was shared or invented.
        #expect(offsets.count == 200)
    }

    @Test("load-test's crowd: every client connects, reads every post, none is closed; the watcher among them sees every post")
    func crowd() throws {
        let running = try RunningApp()
        var configuration = LoadTestConfiguration(host: "127.0.0.1", port: running.port)
        configuration.users = 5
        configuration.messages = 100
        configuration.concurrency = 4
        configuration.watchWebSocket = true
        configuration.webSocketCrowd = 40
        let report = try LoadTestRunner.run(configuration)
        #expect(report.acknowledged == 100)
        #expect(report.webSocketMissing == 0)
        let crowd = try #require(report.webSocketCrowd)
        #expect(crowd.clients == 40)
        #expect(crowd.connected == 40)
        #expect(crowd.closedByServer == 0)
        // Each client read at least the 100 posts: each is over 60 bytes in a frame.
        #expect(crowd.bytes >= 40 * 100 * 60, "\(crowd.bytes) bytes")
        #expect(report.verification?.lost == 0)
    }
}
