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
