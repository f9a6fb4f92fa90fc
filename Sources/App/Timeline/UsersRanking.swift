import Dispatch
import Synchronization
import Timeline

/// `/api/users` for a large class: the users ranked once per order and kept, so a page is
/// a slice and 20 readers at once do not each rank 100,000 users.
///
/// Up to ``exactBelow`` users every request ranks its page from the current users
/// (``PageSelection``: milliseconds), exact as ever. Above, a request is always served
/// from the kept ranking; when posts arrived since, it is rebuilt on `queue` in the
/// background, at most every ``minInterval``: the list can be a rebuild behind, never
/// slow. Only the first request of an order waits for it to be built.
final class UsersRanking: Sendable {
    enum Order: String, Sendable, CaseIterable {
        case posts, user, violations
    }

    struct Ranked: Sendable {
        var version: UInt64
        var builtAt: ContinuousClock.Instant
        /// Every user, in the order's sequence.
        var standings: [Standing]
    }

    static let exactBelow = 10_000
    /// Least time between two rebuilds of one order while posts flow.
    static let minInterval: Duration = .milliseconds(500)

    private let service: TimelineService
    /// Builds rankings, one at a time: 20 readers asking for an order not built yet wait
    /// for one build instead of each sorting every user.
    private let queue = DispatchQueue(label: "streamsocial.users-ranking")
    private let kept = Mutex<[Order: Ranked]>([:])
    private let rebuilding = Mutex<Set<Order>>([])

    init(service: TimelineService) {
        self.service = service
    }

    /// The page: the total, and the users from `offset`, at most `limit`. The order is
    /// the kept ranking's, the rows are the users as they are now.
    func page(order: Order, offset: Int, limit: Int) -> (total: Int, users: [(key: String, value: TimelineState.User)]) {
        if let ranked = kept.withLock({ $0[order] }), ranked.standings.count >= Self.exactBelow {
            if ranked.version != service.usersVersion { rebuildInBackground(order, after: ranked.builtAt) }
            return (ranked.standings.count, service.users(named: Self.slice(ranked.standings, offset: offset, limit: limit)))
        }
        guard service.userCount >= Self.exactBelow else {
            let (standings, _) = service.standings()
            let page = PageSelection.page(of: standings, offset: offset, limit: limit, by: Self.precedes(order))
            return (standings.count, service.users(named: page.map(\.key)))
        }
        let ranked = queue.sync { () -> Ranked in
            if let ranked = kept.withLock({ $0[order] }), ranked.standings.count >= Self.exactBelow { return ranked }
            let ranked = Self.rank(service.standings(), order: order)
            kept.withLock { $0[order] = ranked }
            return ranked
        }
        // The class just became large: the other orders are built before anyone asks.
        for other in Order.allCases where kept.withLock({ $0[other] }) == nil {
            rebuildInBackground(other, after: ContinuousClock.now - Self.minInterval)
        }
        return (ranked.standings.count, service.users(named: Self.slice(ranked.standings, offset: offset, limit: limit)))
    }

    private func rebuildInBackground(_ order: Order, after builtAt: ContinuousClock.Instant) {
        guard rebuilding.withLock({ $0.insert(order).inserted }) else { return }
        let wait = Self.minInterval - (ContinuousClock.now - builtAt)
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: max(.zero, wait).wholeNanoseconds))) { [self] in
            let ranked: Ranked
            if let current = kept.withLock({ $0[order] }), let changes = service.changedStandings(after: current.version) {
                ranked = Self.update(current, with: changes, order: order)
            } else {
                ranked = Self.rank(service.standings(), order: order)
            }
            kept.withLock { $0[order] = ranked }
            rebuilding.withLock { _ = $0.remove(order) }
        }
    }

    private static func slice(_ standings: [Standing], offset: Int, limit: Int) -> [String] {
        guard offset < standings.count else { return [] }
        let end = limit >= standings.count - offset ? standings.count : offset + limit
        return standings[offset..<end].map(\.key)
    }

    /// Ranks small (name, posts, violations) standings, not the users themselves: moving
    /// 100,000 users with their posts around made a rebuild take 400 ms.
    private static func rank(_ standings: (standings: [Standing], version: UInt64), order: Order) -> Ranked {
        Ranked(version: standings.version, builtAt: .now, standings: standings.standings.sorted(by: precedes(order)))
    }

    /// The kept ranking with the users that changed since moved to their places: a few
    /// milliseconds at 100,000 users where sorting them all took about 60, on the cores
    /// that serve the readers.
    static func update(_ ranked: Ranked, with changes: (standings: [Standing], version: UInt64), order: Order) -> Ranked {
        let standings = SortedMerge.replacing(in: ranked.standings, with: changes.standings, key: \.key, by: precedes(order))
        return Ranked(version: changes.version, builtAt: .now, standings: standings)
    }

    /// What a ranking compares of a user.
    struct Standing {
        var key: String
        var posts: Int
        var violations: Int

        init(_ entry: (key: String, value: TimelineState.User)) {
            (key, posts, violations) = (entry.key, entry.value.postCount, entry.value.violations)
        }
    }

    /// The order of `order`: most posts or violations first, ties by name.
    static func precedes(_ order: Order) -> (Standing, Standing) -> Bool {
        switch order {
        case .user: { $0.key < $1.key }
        case .violations: { ($0.violations, $1.key) > ($1.violations, $0.key) }
        case .posts: { ($0.posts, $1.key) > ($1.posts, $0.key) }
        }
    }
}
