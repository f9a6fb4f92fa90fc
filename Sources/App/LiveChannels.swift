import Foundation
import HTTPServer
import Logging
import Synchronization
import Leaderboard
import Timeline

/// The dashboard's WebSocket channels. Posts are pushed on `messages` as they are read,
/// gathered into one frame every 20 ms (thousands of posts a second stay a few dozen
/// frames); the panels (`partitions`, `ordering`, `throughput`, `lag`) are pushed as
/// snapshots, at most every 250 ms and only when they changed. A client gets a snapshot
/// of each channel it subscribes to; a slow client's queued snapshots are replaced by
/// newer ones.
final class LiveChannels: Sendable {
    enum Name: String, CaseIterable, Sendable {
        case messages, partitions, ordering, throughput, lag, leaderboard, achievements
    }

    private let hub: WebSocketHub
    private let service: TimelineService
    private let lag: LagMonitor
    private let leaderboard: LeaderboardService
    private let recentUnlocks = Mutex<[LeaderboardState.Unlock]>([])
    /// The leaderboard session the unlock feed shows.
    private let sessionSeen = Atomic<Int>(0)
    private let dirty = Mutex<Set<Name>>([])
    private let pendingMessages = Mutex<[RecentPosts.Message]>([])

    init(hub: WebSocketHub, service: TimelineService, lag: LagMonitor, leaderboard: LeaderboardService) {
        self.hub = hub
        self.service = service
        self.lag = lag
        self.leaderboard = leaderboard
    }

    /// Pushes the board when it changed, and each new unlock as an `achievement` event.
    /// After a session reset the unlock feed starts over with an empty snapshot.
    func publishLeaderboard() {
        let updates = leaderboard.takeUpdates()
        let (session, unlocks) = (updates.session, updates.unlocks)
        if sessionSeen.exchange(session, ordering: .relaxed) != session {
            recentUnlocks.withLock { $0.removeAll() }
            hub.broadcast(snapshot(.achievements), channel: Name.achievements.rawValue)
        }
        if !unlocks.isEmpty {
            recentUnlocks.withLock { recent in
                recent.append(contentsOf: unlocks)
                if recent.count > 50 { recent.removeFirst(recent.count - 50) }
            }
            for unlock in unlocks {
                hub.broadcast(JSONCoding.string(WebSocketMessage(type: "achievement", channel: Name.achievements.rawValue, data: AchievementEvent(unlock, workshop: leaderboard.workshop))), channel: Name.achievements.rawValue)
            }
        }
        if updates.changed {
            hub.broadcast(snapshot(.leaderboard), channel: Name.leaderboard.rawValue, coalesceKey: Name.leaderboard.rawValue)
        }
    }

    /// Pushes the posts read since the last call as one `messages` frame: the
    /// `live-messages` job, every 20 ms.
    func pushMessages() {
        let batch = pendingMessages.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !batch.isEmpty else { return }
        hub.broadcast(JSONCoding.string(WebSocketMessage(type: "messages", channel: Name.messages.rawValue, data: batch)), channel: Name.messages.rawValue)
    }

    /// Pushes a snapshot of each panel that changed since the last call: the
    /// `live-panels` job, every 250 ms.
    func pushPanels() {
        let changed = dirty.withLock { dirty in
            defer { dirty.removeAll() }
            return dirty
        }
        for channel in Name.allCases where channel != .messages && channel != .leaderboard && channel != .achievements && changed.contains(channel) {
            hub.broadcast(snapshot(channel), channel: channel.rawValue, coalesceKey: channel.rawValue)
        }
    }

    func markChanged(_ channels: Name...) {
        dirty.withLock { $0.formUnion(channels) }
    }

    /// Called on the consumer thread for each record applied.
    func publish(_ applied: TimelineService.Applied) {
        switch applied {
        case .post(let message, let violation):
            pendingMessages.withLock { $0.append(message) }
            if violation != nil { markChanged(.ordering) }
            markChanged(.partitions, .throughput)
        case .duplicate:
            markChanged(.ordering, .partitions, .throughput)
        case .malformed:
            markChanged(.ordering, .partitions, .throughput)
        case .reread:
            markChanged(.ordering)
        }
    }

    /// A channel's snapshot message, as sent on subscribe and when it changed.
    func snapshot(_ channel: Name) -> String {
        let now = currentSecond()
        switch channel {
        case .messages: return snapshot(channel, service.messagesSnapshot())
        case .partitions: return snapshot(channel, service.partitionReport(now: now))
        case .ordering: return snapshot(channel, service.orderingReport())
        case .throughput: return snapshot(channel, service.throughputReport(now: now))
        case .lag: return snapshot(channel, lag.report)
        case .leaderboard: return snapshot(channel, leaderboard.report())
        case .achievements: return snapshot(channel, recentUnlocks.withLock { $0 }.map { AchievementEvent($0, workshop: leaderboard.workshop) })
        }
    }

    private func snapshot(_ channel: Name, _ data: some Encodable & Sendable) -> String {
        JSONCoding.string(WebSocketMessage(type: "snapshot", channel: channel.rawValue, data: data))
    }

    /// WebSocket events: snapshots on connect and subscribe.
    var events: WebSocketEvents {
        WebSocketEvents(
            onConnect: { [self] client in
                for channel in Name.allCases { hub.send(snapshot(channel), to: client, coalesceKey: channel.rawValue) }
            },
            onMessage: { [self] client, text in
                guard let request = try? JSONCoding.decoder.decode(SubscribeRequest.self, from: Data(text.utf8)) else {
                    hub.send(JSONCoding.string(WebSocketMessage(type: "error", channel: "control", data: ["message": #"expected {"subscribe": [channels]}"#])), to: client)
                    return
                }
                let channels = request.subscribe.compactMap(Name.init(rawValue:))
                hub.subscribe(client, to: Set(channels.map(\.rawValue)))
                hub.send(JSONCoding.string(WebSocketMessage(type: "subscribed", channel: "control", data: channels.map(\.rawValue).sorted())), to: client)
                for channel in channels { hub.send(snapshot(channel), to: client, coalesceKey: channel.rawValue) }
            }
        )
    }
}

/// An unlock as the `achievements` channel announces it.
struct AchievementEvent: Encodable, Sendable {
    var team: String
    var achievement: Achievement
    var emoji: String
    var title: String
    var points: Int
    var at: Int64

    init(_ unlock: LeaderboardState.Unlock, workshop: Workshop) {
        let info = workshop.achievements[unlock.achievement]
        team = unlock.team
        achievement = unlock.achievement
        emoji = info?.emoji ?? ""
        title = info?.title ?? unlock.achievement.rawValue
        points = info?.points ?? 0
        at = unlock.at
    }
}
