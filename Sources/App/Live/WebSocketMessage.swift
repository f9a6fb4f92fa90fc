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
    /// A `messages` frame, written by ``JSONWriter``: one is built every 20 ms while
    /// posts flow. The same text as encoding this message with ``JSONCoding``.
    static func messagesFrame(_ posts: [RecentPosts.Message]) -> String {
        var json = JSONWriter(capacity: 64 + posts.count * 160)
        json.beginObject()
        json.field("channel", LiveChannels.Name.messages.rawValue)
        json.key("data")
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
        json.field("type", "messages")
        json.endObject()
        return String(decoding: json.bytes, as: UTF8.self)
    }
}
