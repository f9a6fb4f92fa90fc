/// How a consumer reads: as a member of a consumer group (offsets committed after
/// processing, at-least-once) or with every partition assigned from the earliest offset
/// and no group (for views rebuilt from the whole topic at start).
public struct KafkaConsumerConfiguration: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// Join `groupID` and subscribe to `topics`; a record's offset is committed only
        /// after the handler returned for it. Where the group has no committed offset,
        /// reading starts at the earliest one.
        case group(id: String, topics: [String])
        /// No group: read every partition of `topics` from the earliest offset.
        case assignAllFromEarliest(topics: [String])
    }

    public var mode: Mode
    /// How often stored offsets are committed (`auto.commit.interval.ms`). Default: 1 s.
    public var commitInterval: Duration = .seconds(1)
    /// Longest a fetch waits at the broker for new records (`fetch.wait.max.ms`): the
    /// worst-case delay between a write and a live view seeing it when the broker does
    /// not answer early (the embedded cluster doesn't). Default: 50 ms.
    public var maxFetchWait: Duration = .milliseconds(50)

    public init(mode: Mode) {
        self.mode = mode
    }

    var topics: [String] {
        switch mode {
        case .group(_, let topics), .assignAllFromEarliest(let topics): topics
        }
    }

    var dictionary: [(String, String)] {
        var settings: [(String, String)] = [
            ("auto.offset.reset", "earliest"),
            ("enable.partition.eof", "false"),
            ("fetch.wait.max.ms", String(maxFetchWait.milliseconds)),
        ]
        switch mode {
        case .group(let id, _):
            settings += [
                ("group.id", id),
                // At-least-once: the consumer stores a record's offset after the handler
                // returns; the background committer commits stored offsets only.
                ("enable.auto.commit", "true"),
                ("enable.auto.offset.store", "false"),
                ("auto.commit.interval.ms", String(commitInterval.milliseconds)),
            ]
        case .assignAllFromEarliest:
            // librdkafka 2.0 refuses rd_kafka_assign without a group.id. This one is never
            // joined (no subscribe) and nothing is committed under it.
            settings += [
                ("group.id", "streamsocial-reader-\(UInt64.random(in: 0...UInt64.max))"),
                ("enable.auto.commit", "false"),
            ]
        }
        return settings
    }
}
