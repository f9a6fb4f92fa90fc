@testable import App
import Leaderboard
import Timeline
import Testing

@Suite("Live channels' state")
struct LiveChannelsStateTests {
    static func unlock(_ team: String, at: Int64) -> LeaderboardState.Unlock {
        LeaderboardState.Unlock(team: team, achievement: .connected, at: at)
    }

    @Test("posts wait for the next messages frame, once; the panels they change are marked once")
    func postsAndPanels() {
        var state = LiveChannels.State()
        let message = RecentPosts.Message(userID: "ada", content: "hi", sequence: 1, timestamp: 1, partition: 0, offset: 0)
        let applied = ContinuousClock.now
        state.record(.post(message, violation: nil), at: applied)
        state.record(.reread, at: .now)
        let taken = state.takeMessages()
        #expect(taken.messages.map(\.userID) == ["ada"])
        // When it was applied goes with it: the frame window is measured from there.
        #expect(taken.appliedAt == [applied])
        #expect(state.takeMessages().messages.isEmpty)
        #expect(state.takeChanged() == [.partitions, .throughput, .ordering])
        #expect(state.takeChanged().isEmpty)
        // A record that is not shown changes the messages snapshot's counts only.
        state.record(.malformed(TimelineService.MalformedRecord(partition: 0, offset: 1, reason: .notJSON, bytes: 3)), at: .now)
        #expect(state.takeMessages().messages.isEmpty)
        #expect(state.takeChanged().contains(.messages))
    }

    @Test("the unlock feed keeps the latest 50 and starts over when the board's session changes")
    func unlockFeed() {
        var state = LiveChannels.State()
        #expect(state.enter(session: 0) == false)
        state.received((0..<60).map { Self.unlock("t\($0)", at: Int64($0)) })
        #expect(state.recentUnlocks.count == LiveChannels.State.unlockFeedLength)
        #expect(state.recentUnlocks.first?.team == "t10")
        #expect(state.recentUnlocks.last?.team == "t59")
        #expect(state.enter(session: 1) == true)
        #expect(state.recentUnlocks.isEmpty)
        #expect(state.enter(session: 1) == false)
    }

    /// The ordering panel's "checked" froze while posts flowed in order: it was pushed only
    /// when a violation happened.
    @Test("a post in order still changes the ordering panel: its checked count")
    func orderedPostChangesOrdering() {
        var state = LiveChannels.State()
        state.record(.post(RecentPosts.Message(userID: "ada", content: "hi", sequence: 1, timestamp: 1, partition: 0, offset: 0), violation: nil), at: .now)
        #expect(state.takeChanged().contains(.ordering))
    }

    @Test("the board is pushed when it changed, and at least every second when it did not (the page's heartbeat)")
    func leaderboardHeartbeat() {
        var state = LiveChannels.State()
        let start = ContinuousClock.now
        // (changed, ms after start): the first push, too soon, changed, 900 ms after it, a second after it.
        let asks: [(Bool, Int)] = [(false, 0), (false, 500), (true, 600), (false, 1500), (false, 1600)]
        var pushes: [Bool] = []
        for (changed, after) in asks { pushes.append(state.leaderboardDue(changed: changed, now: start + .milliseconds(after))) }
        #expect(pushes == [true, false, true, false, true])
    }

    @Test("the messages window: 10 ms up to 100 clients, widening to 30 ms, reached at manyClients")
    func messageWindow() {
        #expect(LiveChannels.messageWindow(clients: 0) == .milliseconds(10))
        #expect(LiveChannels.messageWindow(clients: 100) == .milliseconds(10))
        #expect(LiveChannels.messageWindow(clients: 200) == .milliseconds(20))
        #expect(LiveChannels.manyClients == 300)
        #expect(LiveChannels.messageWindow(clients: LiveChannels.manyClients - 1) < LiveChannels.maxMessageWindow)
        #expect(LiveChannels.messageWindow(clients: LiveChannels.manyClients) == LiveChannels.maxMessageWindow)
        #expect(LiveChannels.messageWindow(clients: 1_000_000) == .milliseconds(30))
    }
}

