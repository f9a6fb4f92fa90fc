@testable import HTTPServer
import Testing

@Suite("The slow WebSocket client rule")
struct WebSocketBacklogTests {
    @Test("a newer snapshot replaces the waiting one with the same key, in the newer one's place")
    func coalesce() {
        var backlog = WebSocketBacklog<String>(limit: 10)
        #expect(backlog.push("board v1", key: "leaderboard") == false)
        #expect(backlog.push("post 1", key: nil) == false)
        #expect(backlog.push("lag v1", key: "lag") == false)
        #expect(backlog.push("board v2", key: "leaderboard") == false)
        #expect(backlog.push("post 2", key: nil) == false)
        #expect(backlog.frames == ["post 1", "lag v1", "board v2", "post 2"])
    }

    @Test("a full backlog drops its oldest frame and says so; frames leave oldest first")
    func dropOldest() {
        var backlog = WebSocketBacklog<String>(limit: 3)
        for index in 1...3 { #expect(backlog.push("post \(index)", key: nil) == false) }
        #expect(backlog.push("post 4", key: nil) == true)
        #expect(backlog.push("board", key: "leaderboard") == true)
        #expect(backlog.frames == ["post 3", "post 4", "board"])
        // A replaced snapshot frees its own place: nothing else is dropped.
        #expect(backlog.push("board v2", key: "leaderboard") == false)
        #expect(backlog.frames == ["post 3", "post 4", "board v2"])
        #expect(backlog.popFirst() == "post 3")
        #expect(backlog.popFirst() == "post 4")
        #expect(backlog.popFirst() == "board v2")
        #expect(backlog.popFirst() == nil)
        #expect(backlog.isEmpty)
    }
}
