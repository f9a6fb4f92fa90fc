import Synchronization

/// The newest posts read from `user-timeline`, for the dashboard's live list, and a count
/// of records that were not valid posts. Written by the consumer thread, read by the
/// HTTP service thread.
final class LiveFeed: Sendable {
    struct Message: Codable, Sendable, Equatable {
        var userID: String
        var content: String
        var timestamp: Int64
        var partition: Int32
        var offset: Int64

        enum CodingKeys: String, CodingKey {
            case userID = "user_id"
            case content, timestamp, partition, offset
        }
    }

    /// A record that is not a valid post: where it is, so it can be found.
    struct Malformed: Codable, Sendable, Equatable {
        var partition: Int32
        var offset: Int64
    }

    struct Snapshot: Codable, Sendable, Equatable {
        var messages: [Message]
        var consumed: Int
        var malformed: Int
        var lastMalformed: Malformed?

        enum CodingKeys: String, CodingKey {
            case messages, consumed, malformed
            case lastMalformed = "last_malformed"
        }
    }

    private let capacity: Int
    private let state: Mutex<Snapshot>

    init(capacity: Int) {
        self.capacity = capacity
        self.state = Mutex(Snapshot(messages: [], consumed: 0, malformed: 0))
    }

    /// Adds a post; returns it as the dashboard shows it.
    @discardableResult
    func append(_ record: TimelineRecord, partition: Int32, offset: Int64) -> Message {
        let message = Message(userID: record.userID, content: record.content, timestamp: record.timestamp, partition: partition, offset: offset)
        state.withLock { state in
            state.consumed += 1
            // Partitions are read in no particular order relative to each other: keep the
            // list in time order, newest last.
            var index = state.messages.endIndex
            while index > state.messages.startIndex, state.messages[index - 1].timestamp > message.timestamp { index -= 1 }
            state.messages.insert(message, at: index)
            if state.messages.count > capacity { state.messages.removeFirst(state.messages.count - capacity) }
        }
        return message
    }

    func recordMalformed(partition: Int32, offset: Int64) {
        state.withLock { state in
            state.malformed += 1
            state.lastMalformed = Malformed(partition: partition, offset: offset)
        }
    }

    var snapshot: Snapshot { state.withLock { $0 } }
}
