/// Hands out each user's next sequence number, running ahead of what the consumer has
/// read: a post gets its number when it is produced, not when it is read back.
///
/// After a restart it must continue above every number already in the log, so it is
/// raised to the replay's last sequences before posts are taken (``raise(to:)``).
public struct SequenceAllocator: Sendable {
    private var last: [String: Int64] = [:]

    public init() {}

    /// `user`'s next number, or nil once the user's numbers are used up (a record
    /// someone produced set them near ``PostRecord/maxSequence``): a post numbered past
    /// it would be refused on read.
    public mutating func next(for user: String) -> Int64? {
        let current = last[user] ?? 0
        guard current < PostRecord.maxSequence else { return nil }
        last[user] = current + 1
        return current + 1
    }

    /// Continues above `sequences` (user → highest number in the log).
    public mutating func raise(to sequences: [String: Int64]) {
        for (user, sequence) in sequences where sequence > (last[user] ?? 0) {
            last[user] = sequence
        }
    }
}
