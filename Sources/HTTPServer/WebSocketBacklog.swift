/// The frames waiting to be written to one WebSocket client, and the slow-client rule:
/// a frame with a coalescing key replaces the waiting frame with the same key (a newer
/// snapshot makes the older one worthless), and when the backlog is full its oldest frame
/// is dropped. So a client that reads slowly gets the latest snapshots and recent
/// updates, never an ever-growing queue.
struct WebSocketBacklog<Frame> {
    let limit: Int
    private var entries: [(frame: Frame, key: String?)] = []

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    var isEmpty: Bool { entries.isEmpty }
    var frames: [Frame] { entries.map(\.frame) }

    /// Queues `frame`; returns whether an older frame was dropped to make room (a
    /// replaced snapshot does not count as dropped).
    mutating func push(_ frame: Frame, key: String?) -> Bool {
        if let key, let index = entries.firstIndex(where: { $0.key == key }) {
            entries.remove(at: index)
        }
        var dropped = false
        if entries.count >= limit {
            entries.removeFirst()
            dropped = true
        }
        entries.append((frame, key))
        return dropped
    }

    /// The next frame to write, left in place.
    var first: Frame? { entries.first?.frame }

    /// The next frame to write.
    mutating func popFirst() -> Frame? {
        entries.isEmpty ? nil : entries.removeFirst().frame
    }
}
