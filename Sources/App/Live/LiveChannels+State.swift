import Leaderboard

extension LiveChannels {
    /// What the channels gather between pushes: the posts not yet sent, the panels that
    /// changed, and the unlock feed. Events from the consumer and the jobs mutate it under
    /// the channels' one lock; frames are built and sent after it is released.
    struct State {
        /// The most unlocks the feed's snapshot shows.
        static let unlockFeedLength = 50

        private(set) var pendingMessages: [RecentPosts.Message] = []
        /// When each pending post was applied, for the frame window's measure.
        private var pendingSince: [ContinuousClock.Instant] = []
        var changed: Set<Name> = []
        /// The latest unlocks, oldest first.
        private(set) var recentUnlocks: [LeaderboardState.Unlock] = []
        /// The leaderboard session the unlock feed shows.
        private(set) var session = 0
        /// When the board was last pushed.
        private var leaderboardPushed: ContinuousClock.Instant?

        /// How often the board is pushed even when nothing in it changed: the page marks
        /// itself stale after 5 s without data, so a quiet class must not look stale.
        static let leaderboardHeartbeat: Duration = .seconds(1)

        /// Whether to push the board now: it changed, or the heartbeat is due.
        mutating func leaderboardDue(changed: Bool, now: ContinuousClock.Instant) -> Bool {
            guard changed || leaderboardPushed.map({ now - $0 >= Self.leaderboardHeartbeat }) ?? true else { return false }
            leaderboardPushed = now
            return true
        }

        /// A record the timeline applied: a post waits for the next `messages` frame,
        /// and marks the panels it changes.
        mutating func record(_ applied: TimelineService.Applied, at instant: ContinuousClock.Instant) {
            switch applied {
            case .post(let message, _):
                pendingMessages.append(message)
                pendingSince.append(instant)
                // Every post is checked for order: the panel's counts change with each.
                changed.formUnion([.partitions, .throughput, .ordering])
            case .duplicate, .malformed:
                changed.formUnion([.ordering, .partitions, .throughput, .messages])
            case .reread:
                changed.insert(.ordering)
            }
        }

        /// The board's current session. Returns whether it changed, which empties the
        /// feed (its snapshot must be sent again).
        mutating func enter(session: Int) -> Bool {
            guard session != self.session else { return false }
            self.session = session
            recentUnlocks.removeAll()
            return true
        }

        /// New unlocks, for the feed's next snapshot: the latest ``unlockFeedLength``.
        mutating func received(_ unlocks: [LeaderboardState.Unlock]) {
            recentUnlocks.append(contentsOf: unlocks)
            if recentUnlocks.count > Self.unlockFeedLength {
                recentUnlocks.removeFirst(recentUnlocks.count - Self.unlockFeedLength)
            }
        }

        mutating func takeMessages() -> (messages: [RecentPosts.Message], appliedAt: [ContinuousClock.Instant]) {
            defer {
                pendingMessages.removeAll(keepingCapacity: true)
                pendingSince.removeAll(keepingCapacity: true)
            }
            return (pendingMessages, pendingSince)
        }

        mutating func takeChanged() -> Set<Name> {
            defer { changed.removeAll() }
            return changed
        }
    }
}
