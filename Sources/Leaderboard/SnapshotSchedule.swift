/// When the board's changelog gets its next round: every ``interval`` while the board
/// changes, one second after an unlock (so a restart keeps a fresh achievement), at once
/// when forced (a session reset). Rounds are numbered by their time in ms and strictly
/// increase, even when the clock steps back.
public struct SnapshotSchedule: Sendable {
    public static let interval: Duration = .seconds(5)
    public static let afterUnlock: Duration = .seconds(1)

    private var lastAt: ContinuousClock.Instant
    private var dirty = false
    private var unlocked = false
    public private(set) var lastRound: Int64 = 0

    public init(now: ContinuousClock.Instant) {
        lastAt = now
    }

    /// The board changed (and, with `unlock`, someone earned an achievement).
    public mutating func changed(unlock: Bool = false) {
        dirty = true
        if unlock { unlocked = true }
    }

    /// The round to write now, or nil when none is due.
    /// - Parameters:
    ///   - now: the monotonic time, for the intervals.
    ///   - wallClock: the current time (ms), the round's number where it is ahead.
    ///   - force: write even when nothing changed.
    public mutating func due(now: ContinuousClock.Instant, wallClock: Int64, force: Bool = false) -> Int64? {
        let elapsed = now - lastAt
        guard force || (dirty && (elapsed >= Self.interval || (unlocked && elapsed >= Self.afterUnlock))) else { return nil }
        lastAt = now
        dirty = false
        unlocked = false
        lastRound = max(lastRound + 1, wallClock)
        return lastRound
    }
}
