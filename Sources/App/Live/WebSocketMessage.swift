import FastJSON

/// Every server → client WebSocket message: `{"type", "channel", "data"}`
/// (documented in docs/API.md).
struct WebSocketMessage<Payload: Encodable & Sendable>: Encodable, Sendable {
    var type: String
    var channel: String
    var data: Payload
}

/// A client → server WebSocket message: `{"subscribe": ["messages", …]}`.
struct SubscribeRequest: Decodable {
    var subscribe: [String]
}

extension WebSocketMessage where Payload == [RecentPosts.Message] {
    /// A `messages` frame, written by ``JSONWriter``: up to a hundred are built a second
    /// while posts flow. The same text as encoding this message with ``JSONCoding``.
    static func messagesFrame(_ posts: [RecentPosts.Message]) -> String {
        var json = JSONWriter(capacity: 64 + posts.count * 160)
        json.beginObject()
        json.field("channel", LiveChannels.Name.messages.rawValue)
        json.key("data")
        writePosts(posts, to: &json)
        json.field("type", "messages")
        json.endObject()
        return String(decoding: json.bytes, as: UTF8.self)
    }

    /// The posts as an array of objects, keys sorted.
    static func writePosts(_ posts: [RecentPosts.Message], to json: inout JSONWriter) {
        json.beginArray()
        for post in posts {
            json.beginObject()
            json.field("content", post.content)
            json.field("offset", post.offset)
            json.field("partition", post.partition)
            json.field("seq", post.sequence)
            json.field("timestamp", post.timestamp)
            json.field("user_id", post.userID)
            json.endObject()
        }
        json.endArray()
    }
}

extension WebSocketMessage where Payload == MessagesSnapshot {
    /// The `messages` channel's snapshot, written by ``JSONWriter``: it is rebuilt with
    /// every `messages` frame (its recent posts included), and Foundation's encoder made
    /// it the costliest thing the server did per post under load. The same text as
    /// encoding this message with ``JSONCoding``.
    static func messagesSnapshot(_ snapshot: MessagesSnapshot) -> String {
        var json = JSONWriter(capacity: 128 + snapshot.messages.count * 160)
        json.beginObject()
        json.field("channel", LiveChannels.Name.messages.rawValue)
        json.key("data")
        json.beginObject()
        json.field("consumed", snapshot.consumed)
        json.field("malformed", snapshot.malformed)
        json.key("messages")
        WebSocketMessage<[RecentPosts.Message]>.writePosts(snapshot.messages, to: &json)
        json.endObject()
        json.field("type", "snapshot")
        json.endObject()
        return String(decoding: json.bytes, as: UTF8.self)
    }
}
