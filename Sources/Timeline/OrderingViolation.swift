/// A post that did not arrive as its user's next sequence number.
public struct OrderingViolation: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        /// Sequence numbers were skipped (and were not known failed sends).
        case gap
        /// A sequence number below the highest seen, arriving late.
        case outOfOrder = "out_of_order"
        /// The same (user, sequence) again: stored once, counted here.
        case duplicate
    }

    /// Where a record sits in Kafka.
    public struct Position: Sendable, Equatable, Codable {
        public var partition: Int32
        public var offset: Int64

        public init(partition: Int32, offset: Int64) {
            self.partition = partition
            self.offset = offset
        }
    }

    public var kind: Kind
    public var userID: String
    /// The sequence number that should have come next.
    public var expected: Int64
    public var got: Int64
    /// The record that broke the order.
    public var record: Position
    /// The user's record read just before it (the highest sequence so far), if any.
    public var previous: Position?
    /// The offending record's timestamp (ms).
    public var timestamp: Int64

    public init(kind: Kind, userID: String, expected: Int64, got: Int64, record: Position, previous: Position?, timestamp: Int64) {
        self.kind = kind
        self.userID = userID
        self.expected = expected
        self.got = got
        self.record = record
        self.previous = previous
        self.timestamp = timestamp
    }
}
