/// Which users changed, and when: lets a kept ranking of 100,000 users be brought up to
/// date by moving the few that changed instead of sorting them all again (`/api/users`
/// while posts flow).
///
/// Entries are (version, user), versions increasing. Memory is bounded: past `capacity`
/// entries the older half is forgotten, and a question about changes from before the
/// forgotten ones gets nil (rank everything again).
public struct UsersChangeLog: Sendable {
    private var entries: [(version: UInt64, user: String)] = []
    private let capacity: Int
    /// Changes up to this version may be missing.
    public private(set) var forgottenThrough: UInt64 = 0

    public init(capacity: Int = 200_000) {
        self.capacity = max(2, capacity)
    }

    /// `user` changed at `version` (not lower than any version recorded before).
    public mutating func record(_ user: String, at version: UInt64) {
        entries.append((version, user))
        guard entries.count > capacity else { return }
        let dropped = entries.count / 2
        forgottenThrough = entries[dropped - 1].version
        entries.removeFirst(dropped)
    }

    /// The users that changed after `version`, each once; nil when the log no longer
    /// reaches back that far.
    public func changed(after version: UInt64) -> Set<String>? {
        guard version >= forgottenThrough else { return nil }
        let first = entries.partitioningIndex { $0.version > version }
        return Set(entries[first...].lazy.map(\.user))
    }
}
