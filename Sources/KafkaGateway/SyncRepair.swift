public import NIOCore

/// The one answer of the embedded cluster's coordinator the gateway corrects.
///
/// When a group's leader sends its SyncGroup first, the embedded cluster completes the
/// generation at once, and a follower's SyncGroup arriving a moment later is answered
/// `INVALID_REQUEST` (42): its group is "up" and it expects no SyncGroup then. Apache
/// Kafka answers that follower with its assignment. kafka-python 2.0.2 (the tutorial's
/// client) has no handling for 42 and its consumer dies, so the tutorial's step 4 (a
/// second instance) killed one instance in most runs (seen with and without the gateway).
///
/// The gateway saw the leader's assignments pass, so it answers as Apache Kafka would:
/// the follower's own assignment, or when it did not see one, `REBALANCE_IN_PROGRESS`
/// (27), on which every client joins again.
public enum SyncRepair {
    public static let invalidRequest: Int16 = 42
    static let rebalanceInProgress: Int16 = 27

    /// A SyncGroup response (without its size) with `original`'s correlation id: success
    /// with `assignment`, or `REBALANCE_IN_PROGRESS` when it is nil.
    public static func response(to original: ByteBuffer, version: Int16, assignment: [UInt8]?) -> ByteBuffer {
        var out = ByteBuffer()
        out.writeInteger(original.getInteger(at: original.readerIndex, as: Int32.self) ?? 0)
        if version >= 1 { out.writeInteger(Int32(0)) }  // throttle_time_ms
        if let assignment {
            out.writeInteger(Int16(0))
            out.writeInteger(Int32(assignment.count))
            out.writeBytes(assignment)
        } else {
            out.writeInteger(rebalanceInProgress)
            out.writeInteger(Int32(0))
        }
        return out
    }
}
