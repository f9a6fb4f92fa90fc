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
        /// No group: read every partition of `topics`, each from the offset given here
        /// (the next one to read), or from the earliest where none is given.
        case assignAll(topics: [String], from: [KafkaTopicPartition: Int64])
        /// Read every partition of `topics` from the earliest offset without joining a
        /// group, and commit processed offsets under `groupID` (so tools see the reader's
        /// lag). Nobody can take partitions away: there is no membership to share, and a
        /// start never waits for a group to form.
        case assignAllCommitting(groupID: String, topics: [String])
    }

    public var mode: Mode
    /// Group mode only: read each partition from its earliest offset the first time this
    /// process is assigned it, whatever the group committed, and from the committed
    /// offset on later assignments. For in-memory views rebuilt from the whole topic on
    /// every start, while the group's commits still measure lag. Default: false.
    public var replayOnFirstAssignment = false
    /// How often stored offsets are committed (`auto.commit.interval.ms`). Default: 1 s.
    public var commitInterval: Duration = .seconds(1)
    /// How long the group waits for a silent member before giving its partitions to
    /// others (`session.timeout.ms`; heartbeats every tenth of it). Also how long a
    /// restarted member may wait to rejoin: the embedded cluster only frees a departed
    /// member's partitions when its session expires. Default: 10 s (brokers accept 6 s
    /// and up by default).
    public var sessionTimeout: Duration = .seconds(10)
    /// Longest a fetch waits at the broker for new records (`fetch.wait.max.ms`): the
    /// worst-case delay between a write and a live view seeing it when the broker does
    /// not answer early (the embedded cluster doesn't). Default: 50 ms.
    public var maxFetchWait: Duration = .milliseconds(50)

    /// Hand the handler ``KafkaConsumerEvent/endOfPartition(_:)`` whenever a partition is
    /// caught up (`enable.partition.eof`): for readers that merge partitions and must
    /// know when one has nothing older to come. Default: false.
    public var reportsEndOfPartition = false

    public init(mode: Mode) {
        self.mode = mode
    }

    var topics: [String] {
        switch mode {
        case .group(_, let topics), .assignAllFromEarliest(let topics), .assignAll(let topics, _), .assignAllCommitting(_, let topics): topics
        }
    }

    var dictionary: [(String, String)] {
        var settings: [(String, String)] = [
            ("auto.offset.reset", "earliest"),
            ("enable.partition.eof", reportsEndOfPartition ? "true" : "false"),
            ("fetch.wait.max.ms", String(maxFetchWait.wholeMilliseconds)),
        ]
        switch mode {
        case .group(let id, _):
            settings += committing(under: id) + [
                ("session.timeout.ms", String(sessionTimeout.wholeMilliseconds)),
                ("heartbeat.interval.ms", String(max(100, sessionTimeout.wholeMilliseconds / 10))),
            ]
        case .assignAllCommitting(let id, _):
            // Without membership, commits are "simple" commits (generation −1).
            settings += committing(under: id)
        case .assignAllFromEarliest, .assignAll:
            // librdkafka 2.0 refuses rd_kafka_assign without a group.id. This one is never
            // joined (no subscribe) and nothing is committed under it.
            settings += [
                ("group.id", "streamsocial-reader-\(UInt64.random(in: 0...UInt64.max))"),
                ("enable.auto.commit", "false"),
            ]
        }
        return settings
    }

    /// At-least-once under `groupID`: the consumer stores a record's offset after the
    /// handler returns; the background committer commits stored offsets only.
    private func committing(under groupID: String) -> [(String, String)] {
        [
            ("group.id", groupID),
            ("enable.auto.commit", "true"),
            ("enable.auto.offset.store", "false"),
            ("auto.commit.interval.ms", String(commitInterval.wholeMilliseconds)),
        ]
    }
}
