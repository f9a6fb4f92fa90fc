import NIOCore
import Synchronization

/// The gateway's connections as the instructor sees them: who, from where, since when,
/// what they asked and how much passed. One lock; every event loop reports here.
public final class ConnectionRegistry: Sendable {
    /// One client connection right now.
    public struct Connection: Sendable, Equatable {
        public var id: UInt64
        /// The `client.id` of its last request (nil before the first, or when unset).
        public var clientID: String?
        /// The client's address as the gateway sees it.
        public var address: String
        /// Milliseconds since the epoch.
        public var connectedAt: Int64
        /// Requests by API key.
        public var requests: [Int16: Int]
        public var bytesIn: Int
        public var bytesOut: Int
    }

    private struct State {
        var nextID: UInt64 = 1
        var open: [UInt64: Connection] = [:]
        var accepted = 0
        var refused = 0
        /// Connections closed for a reason other than the peer closing, by reason.
        var lastErrors: [String] = []
    }

    private let state = Mutex(State())
    private let clock: @Sendable () -> Int64

    init(clock: @escaping @Sendable () -> Int64) {
        self.clock = clock
    }

    /// A new connection, or nil when `limit` are open already.
    func admit(peer: SocketAddress?, limit: Int) -> UInt64? {
        let now = clock()
        return state.withLock { state -> UInt64? in
            guard state.open.count < limit else {
                state.refused += 1
                return nil
            }
            let id = state.nextID
            state.nextID += 1
            state.accepted += 1
            state.open[id] = Connection(id: id, clientID: nil, address: peer.map(Self.describe) ?? "?", connectedAt: now, requests: [:], bytesIn: 0, bytesOut: 0)
            return id
        }
    }

    func request(connection id: UInt64, header: KafkaRequestHeader, bytes: Int) {
        state.withLock { state in
            guard var connection = state.open[id] else { return }
            state.open[id] = nil  // unique storage while it changes
            if let clientID = header.clientID { connection.clientID = clientID }
            connection.requests[header.apiKey, default: 0] += 1
            connection.bytesIn += bytes
            state.open[id] = connection
        }
    }

    func response(connection id: UInt64, bytes: Int) {
        state.withLock { state in
            state.open[id]?.bytesOut += bytes
        }
    }

    func clientID(of id: UInt64) -> String? {
        state.withLock { $0.open[id]?.clientID }
    }

    func closed(connection id: UInt64, reason: GatewayError?) {
        state.withLock { state in
            state.open[id] = nil
            if let reason {
                state.lastErrors.append(reason.description)
                if state.lastErrors.count > 20 { state.lastErrors.removeFirst() }
            }
        }
    }

    /// The open connections, oldest first.
    public var connections: [Connection] {
        state.withLock { Array($0.open.values) }.sorted { $0.id < $1.id }
    }

    /// Connections accepted and refused (over the limit) since start, and the latest
    /// reasons the gateway closed one.
    public var totals: (accepted: Int, refused: Int, lastErrors: [String]) {
        state.withLock { ($0.accepted, $0.refused, $0.lastErrors) }
    }

    static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress else { return address.description }
        return "\(ip):\(address.port ?? 0)"
    }
}
