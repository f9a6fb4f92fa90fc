/// Sends text frames to WebSocket clients from any thread.
///
/// A broadcast is encoded once and shared. Each client has a bounded backlog; when a slow
/// client's backlog is full its oldest frame is dropped, and a frame with a
/// `coalesceKey` replaces the client's queued frame with the same key, so a slow client
/// gets the latest snapshot instead of an ever-growing queue.
public struct WebSocketHub: Sendable {
    let core: ServerCore

    /// Sends `text` to every client subscribed to `channel` (clients that never chose
    /// channels receive all of them).
    public func broadcast(_ text: String, channel: String, coalesceKey: String? = nil) {
        core.post(.broadcast(WebSocketFrame(text: text, coalesceKey: coalesceKey), channel: channel))
    }

    /// Sends `text` to one client.
    public func send(_ text: String, to client: WebSocketClientID, coalesceKey: String? = nil) {
        core.post(.send(WebSocketFrame(text: text, coalesceKey: coalesceKey), to: client))
    }

    /// Restricts `client` to `channels`; `nil` means every channel.
    public func subscribe(_ client: WebSocketClientID, to channels: Set<String>?) {
        core.post(.subscribe(client, channels: channels))
    }

    /// Connected clients right now.
    public var clientCount: Int { core.stats.withLock { $0.webSocketClients } }

    /// Frames dropped so far because a client's backlog was full.
    public var droppedFrames: Int { core.stats.withLock { $0.droppedFrames } }
}

/// What the application hears from WebSocket clients. Called on the service thread:
/// keep them quick and answer through the ``WebSocketHub``.
public struct WebSocketEvents: Sendable {
    public var onConnect: @Sendable (WebSocketClientID) -> Void
    public var onMessage: @Sendable (WebSocketClientID, String) -> Void
    public var onDisconnect: @Sendable (WebSocketClientID) -> Void

    public init(
        onConnect: @escaping @Sendable (WebSocketClientID) -> Void = { _ in },
        onMessage: @escaping @Sendable (WebSocketClientID, String) -> Void = { _, _ in },
        onDisconnect: @escaping @Sendable (WebSocketClientID) -> Void = { _ in }
    ) {
        self.onConnect = onConnect
        self.onMessage = onMessage
        self.onDisconnect = onDisconnect
    }
}
