import FastJSON
import HTTPServer
import Leaderboard
import Timeline

/// The body of a successful `POST /api/send-message` (and of an accepted batch item).
struct SendMessageResponse: Encodable, Sendable {
    var userID: String
    var sequence: Int64
    var partition: Int32
    var offset: Int64
    var timestamp: Int64

    enum CodingKeys: String, CodingKey {
        case partition, offset, timestamp, userID
        case sequence = "seq"
    }

    /// The same JSON as `Encodable` gives (sorted keys), written by hand: this answers
    /// every post, on the service thread.
    var json: [UInt8] {
        var json = JSONWriter(capacity: 96 + userID.utf8.count)
        json.beginObject()
        json.field("offset", offset)
        json.field("partition", partition)
        json.field("seq", sequence)
        json.field("timestamp", timestamp)
        json.field("user_id", userID)
        json.endObject()
        return json.bytes
    }
}

/// The body of `POST /api/send-messages`: one result per item, in order.
struct BatchResponse: Encodable, Sendable {
    struct Item: Encodable, Sendable {
        var index: Int
        var status: Int
        var post: SendMessageResponse?
        var error: ErrorBody?
    }

    struct ErrorBody: Encodable, Sendable {
        var code: String
        var message: String
    }

    var accepted: Int
    var rejected: Int
    var results: [Item]

    init(results: [BatchResults.Outcome]) {
        var items: [Item] = []
        for (index, outcome) in results.enumerated() {
            switch outcome {
            case .accepted(let post): items.append(Item(index: index, status: 201, post: post))
            case .rejected(let error): items.append(Item(index: index, status: error.status, error: ErrorBody(code: error.code, message: error.message)))
            }
        }
        self.results = items
        accepted = items.filter { $0.status == 201 }.count
        rejected = items.count - accepted
    }
}

/// The body of `GET /api/timeline/{user_id}`.
struct TimelineResponse: Encodable, Sendable {
    struct Post: Encodable, Sendable {
        var sequence: Int64
        var content: String
        var timestamp: Int64
        var partition: Int32
        var offset: Int64

        enum CodingKeys: String, CodingKey {
            case content, timestamp, partition, offset
            case sequence = "seq"
        }
    }

    struct Ordering: Encodable, Sendable {
        /// `ok`, or `violations` when any was seen for this user.
        var status: String
        var violations: Int
        var duplicates: Int
    }

    var userID: String
    var postCount: Int
    var lastSequence: Int64
    /// Partitions the user's posts were read from.
    var partitions: [Int32]
    /// Where murmur2 places the key `user_id`.
    var keyPartition: Int
    var ordering: Ordering
    /// Newest first.
    var posts: [Post]

    enum CodingKeys: String, CodingKey {
        case partitions, ordering, posts, userID, postCount
        case lastSequence = "last_seq"
        case keyPartition
    }

    init(userID: String, user: TimelineState.User, limit: Int, partitionCount: Int) {
        self.userID = userID
        postCount = user.postCount
        lastSequence = user.lastSequence
        partitions = user.partitions
        keyPartition = Murmur2.partition(for: userID, partitionCount: partitionCount)
        ordering = Ordering(status: user.violations == 0 ? "ok" : "violations", violations: user.violations, duplicates: user.duplicates)
        posts = user.posts.suffix(limit).reversed().map {
            Post(sequence: $0.sequence, content: $0.content, timestamp: $0.timestamp, partition: $0.partition, offset: $0.offset)
        }
    }
}

/// The body of `GET /api/users`.
struct UsersResponse: Encodable, Sendable {
    struct Row: Encodable, Sendable {
        var userID: String
        var postCount: Int
        var partitions: [Int32]
        var lastSequence: Int64
        var violations: Int

        enum CodingKeys: String, CodingKey {
            case partitions, violations, userID, postCount
            case lastSequence = "last_seq"
        }

        init(userID: String, postCount: Int, partitions: [Int32], lastSequence: Int64, violations: Int) {
            self.userID = userID
            self.postCount = postCount
            self.partitions = partitions
            self.lastSequence = lastSequence
            self.violations = violations
        }

        init(userID: String, user: TimelineState.User) {
            self.init(userID: userID, postCount: user.postCount, partitions: user.partitions, lastSequence: user.lastSequence, violations: user.violations)
        }
    }

    var total: Int
    var offset: Int
    var users: [Row]

    /// The same JSON as `Encodable` gives (sorted keys), written by hand: `JSONEncoder`
    /// took about 0.9 ms for a page of 100 users, most of what a page cost with 100,000
    /// users and 20 readers.
    var json: [UInt8] {
        var json = JSONWriter(capacity: 64 + users.count * 112)
        json.beginObject()
        json.field("offset", offset)
        json.field("total", total)
        json.key("users")
        json.beginArray()
        for row in users {
            json.beginObject()
            json.field("last_seq", row.lastSequence)
            json.key("partitions")
            json.beginArray()
            for partition in row.partitions { json.integer(partition) }
            json.endArray()
            json.field("post_count", row.postCount)
            json.field("user_id", row.userID)
            json.field("violations", row.violations)
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return json.bytes
    }
}

/// The body of `GET /api/metrics`.
struct MetricsResponse: Encodable, Sendable {
    var throughput: ThroughputReport
    var lag: LagReport
}
