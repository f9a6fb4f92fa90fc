/// Sends text frames to WebSocket clients from any thread.
///
/// A broadcast is encoded once and shared. Each client has a bounded backlog; when a slow
/// client's backlog is full its oldest frame is dropped, and a frame with a
/// `coalesceKey` replaces the client's queued frame with the same key, so a slow client
/// gets the latest snapshot instead of an ever-growing queue.
///
/// A channel can keep a *snapshot*: the frame a client needs before the channel's
/// updates make sense. The hub sends it to each client that starts receiving the
/// channel (on connect, or when it subscribes), in the order of the service thread, so a
/// new client never gets a snapshot older than an update it is sent, and the service
/// thread never waits for the application to build one.
public struct WebSocketHub: Sendable {
    let core: ServerCore

    /// Sends `text` to every client subscribed to `channel` (clients that never chose
    /// channels receive all of them).
    public func broadcast(_ text: String, channel: String, coalesceKey: String? = nil) {
        core.post(.publish(channel: channel, update: WebSocketFrame(text: text, coalesceKey: coalesceKey), snapshot: nil))
    }

    /// Makes `text` the channel's snapshot and sends it to the channel's clients, where
    /// it replaces an older snapshot still queued.
    public func broadcastSnapshot(_ text: String, channel: String) {
        let frame = WebSocketFrame(text: text, coalesceKey: channel)
        core.post(.publish(channel: channel, update: frame, snapshot: frame))
    }

    /// Sends `update` to the channel's clients and makes `snapshot` (the state with the
    /// update applied) the channel's snapshot, in one step: a client that starts
    /// receiving the channel meanwhile gets the old snapshot and the update, or the new
    /// snapshot alone, never both.
    public func broadcast(_ update: String, channel: String, snapshotAfter snapshot: String) {
        core.post(.publish(
            channel: channel,
            update: WebSocketFrame(text: update, coalesceKey: nil),
            snapshot: WebSocketFrame(text: snapshot, coalesceKey: channel)
        ))
    }

    /// Replaces the channel's snapshot without sending it: for changes the channel's
    /// clients need not hear about, but a new client should see.
    public func keepSnapshot(_ text: String, channel: String) {
        core.post(.publish(channel: channel, update: nil, snapshot: WebSocketFrame(text: text, coalesceKey: channel)))
    }

    /// Sends `text` to one client.
    public func send(_ text: String, to client: WebSocketClientID, coalesceKey: String? = nil) {
        core.post(.send(WebSocketFrame(text: text, coalesceKey: coalesceKey), to: client))
    }

    /// Restricts `client` to `channels` (`nil` means every channel) and sends it the
    /// snapshot each of them keeps.
    public func subscribe(_ client: WebSocketClientID, to channels: Set<String>?) {
        core.post(.subscribe(client, channels: channels))
    }

    /// Connected clients right now.
    public var clientCount: Int { core.stats.webSocketClients }

    /// Frames dropped so far because a client's backlog was full.
    public var droppedFrames: Int { core.stats.droppedFrames }
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
