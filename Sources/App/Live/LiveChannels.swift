import ServerSupport
import Foundation
import HTTPServer
import Logging
import Synchronization
import Leaderboard
import Timeline

/// The dashboard's WebSocket channels. Posts are pushed on `messages` as they are read:
/// the first after a quiet spell at once, the ones that follow within 10 ms gathered
/// into the next frame (thousands of posts a second stay a hundred frames); the panels
/// (`partitions`, `ordering`, `throughput`, `lag`) are pushed as snapshots, at most
/// every 250 ms and only when they changed. A client gets a snapshot
/// of each channel it subscribes to; a slow client's queued snapshots are replaced by
/// newer ones.
///
/// Each channel's latest snapshot is built by the job that pushes it and kept by the
/// hub, which sends it to every client that connects or subscribes: the libwebsockets
/// service thread never ranks the board or encodes a report.
final class LiveChannels: Sendable {
    enum Name: String, CaseIterable, Sendable {
        case messages, partitions, ordering, throughput, lag, leaderboard, achievements, clients
    }

    private let hub: WebSocketHub
    private let service: TimelineService
    private let lag: LagMonitor
    private let leaderboard: LeaderboardService
    /// Who is connected to the Kafka gateway (embedded cluster only).
    private let clients: ConnectedClients?
    private let metrics: ServerMetrics?
    private let state = Mutex(State())
    /// Signalled when a post waits and none was signalled since the last push.
    private let postsWaiting = DispatchSemaphore(value: 0)
    private let signalled = Atomic<Bool>(false)
    /// Counts `pushPanels` calls.
    private let panelTicks = Atomic<UInt64>(0)

    /// The least time between two `messages` frames: a frame per post at classroom rates,
    /// at most a hundred a second under load (20 ms put the p99 at 42-44 ms at 1,000
    /// posts/s, too near the 50 ms goal). With many clients it widens, so that the
    /// service thread writes at most about ``maxFrameWrites`` frames a second in all:
    /// 1,000 clients at 100 frames a second each were 100,000 writes a second, and frames
    /// queued for a quarter of a second.
    static func messageWindow(clients: Int) -> Duration {
        let spread = Duration.seconds(1) * max(1, clients) / maxFrameWrites
        return min(maxMessageWindow, max(minMessageWindow, spread))
    }

    /// From here on the `messages` window is at its widest (300 clients) and panels go
    /// out every 500 ms.
    static let manyClients = Int((maxMessageWindow * maxFrameWrites / .seconds(1)).rounded())

    static let minMessageWindow: Duration = .milliseconds(10)
    static let maxMessageWindow: Duration = .milliseconds(30)
    static let maxFrameWrites = 10_000

    init(
        hub: WebSocketHub, service: TimelineService, lag: LagMonitor, leaderboard: LeaderboardService, clients: ConnectedClients? = nil,
        metrics: ServerMetrics? = nil
    ) {
        self.hub = hub
        self.service = service
        self.lag = lag
        self.leaderboard = leaderboard
        self.clients = clients
        self.metrics = metrics
    }

    /// Pushes the board when it changed (and at least every second, a heartbeat the page
    /// uses to tell live from stale), and each new unlock as an `achievement` event.
    /// After a session reset the unlock feed starts over with an empty snapshot.
    func publishLeaderboard() {
        let updates = leaderboard.takeUpdates()
        if state.withLock({ $0.enter(session: updates.session) }) {
            publishSnapshot(.achievements)
        }
        if !updates.unlocks.isEmpty {
            state.withLock { $0.received(updates.unlocks) }
        }
        for unlock in updates.unlocks {
            hub.broadcast(JSONCoding.string(WebSocketMessage(type: "achievement", channel: Name.achievements.rawValue, data: AchievementEvent(unlock, workshop: leaderboard.workshop))), channel: Name.achievements.rawValue)
        }
        if state.withLock({ $0.leaderboardDue(changed: updates.changed, now: .now) }) {
            publishSnapshot(.leaderboard)
        }
    }

    /// Pushes the posts read since the last call as one `messages` frame.
    func pushMessages() {
        let (batch, appliedAt) = state.withLock { $0.takeMessages() }
        guard !batch.isEmpty else { return }
        let update = WebSocketMessage.messagesFrame(batch)
        if let metrics {
            let now = ContinuousClock.now
            for instant in appliedAt { metrics.postStage(.frame, now - instant) }
        }
        hub.broadcast(update, channel: Name.messages.rawValue, snapshotAfter: snapshot(.messages))
    }

    /// The `live-messages` job: waits for a post, pushes every post waiting, then lets
    /// ``messageWindow(clients:)`` pass before the next frame. A post after a quiet spell goes out
    /// at once; a fixed tick made every post wait for it, 10 ms on average.
    func runMessages(_ worker: Worker) {
        while !worker.isStopping {
            guard postsWaiting.wait(timeout: .now() + .milliseconds(100)) == .success else { continue }
            signalled.store(false, ordering: .releasing)
            pushMessages()
            worker.sleep(for: Self.messageWindow(clients: hub.clientCount))
        }
    }

    /// Pushes a snapshot of each panel that changed since the last call: the
    /// `live-panels` job, every 250 ms; every 500 ms with more than ``manyClients``
    /// clients, where each panel frame is hundreds of writes.
    func pushPanels() {
        let tick = panelTicks.wrappingAdd(1, ordering: .relaxed).oldValue
        if tick % 2 == 1, hub.clientCount > Self.manyClients { return }
        let changed = state.withLock { $0.takeChanged() }
        for channel in Name.allCases where channel != .messages && channel != .leaderboard && channel != .achievements && changed.contains(channel) {
            publishSnapshot(channel)
        }
        if changed.contains(.messages) {
            // Records that are not shown: subscribers have nothing new, only a new
            // subscriber's snapshot (its counts) is brought up to date.
            hub.keepSnapshot(snapshot(.messages), channel: Name.messages.rawValue)
        }
    }

    /// Builds `channel`'s snapshot (on the calling job's thread) and hands it to the hub,
    /// which keeps it and sends it to the channel's subscribers.
    private func publishSnapshot(_ channel: Name) {
        hub.broadcastSnapshot(snapshot(channel), channel: channel.rawValue)
    }

    /// Builds every channel's snapshot: once at start, before the first client.
    func prepareSnapshots() {
        for channel in Name.allCases {
            hub.keepSnapshot(snapshot(channel), channel: channel.rawValue)
        }
    }

    func markChanged(_ channels: Name...) {
        state.withLock { $0.changed.formUnion(channels) }
    }

    /// Called on the consumer thread for each record applied: one lock per record.
    /// A post reaches the `messages` snapshot through its batch (``pushMessages()``);
    /// records that are not shown change only its counts.
    func publish(_ applied: TimelineService.Applied) {
        state.withLock { $0.record(applied, at: .now) }
        if case .post = applied, !signalled.exchange(true, ordering: .acquiringAndReleasing) {
            postsWaiting.signal()
        }
    }

    /// A channel's snapshot message, as sent on subscribe and when it changed.
    func snapshot(_ channel: Name) -> String {
        let now = currentSecond()
        switch channel {
        case .messages: return WebSocketMessage.messagesSnapshot(service.messagesSnapshot())
        case .partitions: return snapshot(channel, service.partitionReport(now: now))
        case .ordering: return snapshot(channel, service.orderingReport())
        case .throughput: return snapshot(channel, service.throughputReport(now: now))
        case .lag: return snapshot(channel, lag.report)
        case .leaderboard: return snapshot(channel, leaderboard.report())
        case .achievements: return snapshot(channel, state.withLock { $0.recentUnlocks }.map { AchievementEvent($0, workshop: leaderboard.workshop) })
        case .clients: return snapshot(channel, clients?.report ?? ClientsReport(address: "", clients: [], accepted: 0, refused: 0))
        }
    }

    private func snapshot(_ channel: Name, _ data: some Encodable & Sendable) -> String {
        JSONCoding.string(WebSocketMessage(type: "snapshot", channel: channel.rawValue, data: data))
    }

    /// WebSocket events, on the service thread: a subscribe is answered, and the hub
    /// sends the subscribed channels' kept snapshots after the answer.
    var events: WebSocketEvents {
        WebSocketEvents(
            onMessage: { [self] client, text in
                guard let request = try? JSONCoding.decoder.decode(SubscribeRequest.self, from: Data(text.utf8)) else {
                    hub.send(JSONCoding.string(WebSocketMessage(type: "error", channel: "control", data: ["message": #"expected {"subscribe": [channels]}"#])), to: client)
                    return
                }
                let channels = request.subscribe.compactMap(Name.init(rawValue:))
                hub.send(JSONCoding.string(WebSocketMessage(type: "subscribed", channel: "control", data: channels.map(\.rawValue).sorted())), to: client)
                hub.subscribe(client, to: Set(channels.map(\.rawValue)))
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
