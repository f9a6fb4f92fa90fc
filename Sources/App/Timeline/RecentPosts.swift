import Timeline

/// The newest posts read from `user-timeline`, across users, for the dashboard's live
/// list, oldest first. A plain value, kept in ``TimelineService``'s state.
struct RecentPosts: Sendable {
    struct Message: Codable, Sendable, Equatable {
        var userID: String
        var content: String
        var sequence: Int64
        var timestamp: Int64
        var partition: Int32
        var offset: Int64

        enum CodingKeys: String, CodingKey {
            case content, timestamp, partition, offset
            case userID = "user_id"
            case sequence = "seq"
        }
    }

    private let capacity: Int
    /// Oldest first.
    private(set) var messages: [Message] = []

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds a post; returns it as the dashboard shows it.
    @discardableResult
    mutating func append(_ post: PostRecord, partition: Int32, offset: Int64) -> Message {
        let message = Message(userID: post.userID, content: post.content, sequence: post.sequence, timestamp: post.timestamp, partition: partition, offset: offset)
        // Partitions are read in no particular order relative to each other: keep the
        // list in time order, newest last.
        var index = messages.endIndex
        while index > messages.startIndex, messages[index - 1].timestamp > message.timestamp { index -= 1 }
        messages.insert(message, at: index)
        if messages.count > capacity { messages.removeFirst(messages.count - capacity) }
        return message
    }
}
