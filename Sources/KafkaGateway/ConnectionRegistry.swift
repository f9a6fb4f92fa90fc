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
        /// Its host alone (one laptop, many connections).
        public var host: String
        /// Milliseconds since the epoch.
        public var connectedAt: Int64
        /// Requests by API key.
        public var requests: [Int16: Int]
        public var bytesIn: Int
        public var bytesOut: Int
        /// Consumer groups its requests named (FindCoordinator, JoinGroup, …).
        public var groups: Set<String>
    }

    /// A connection the gateway closed lately, and why (nil: the client closed it).
    public struct Closed: Sendable, Equatable {
        public var connection: Connection
        public var closedAt: Int64
        public var reason: String?
    }

    /// The connections open now and those closed in the last ``closedKeptFor`` ms.
    public struct Snapshot: Sendable, Equatable {
        public var open: [Connection]
        public var closed: [Closed]
        public var accepted: Int
        public var refused: Int
    }

    /// How long a closed connection stays in the snapshot (ms).
    public static let closedKeptFor: Int64 = 60_000
    static let closedKeptAtMost = 200

    private struct State {
        var nextID: UInt64 = 1
        var open: [UInt64: Connection] = [:]
        var accepted = 0
        var refused = 0
        /// Connections closed for a reason other than the peer closing, by reason.
        var lastErrors: [String] = []
        var closed: [Closed] = []
    }

    private let state = Mutex(State())
    private let clock: @Sendable () -> Int64

    init(clock: @escaping @Sendable () -> Int64) {
        self.clock = clock
    }

    /// A new connection, or nil when `limit` are open already, or `perAddress` from the
    /// same address.
    func admit(peer: SocketAddress?, limit: Int, perAddress: Int = .max) -> UInt64? {
        let now = clock()
        let address = peer.map(Self.describe) ?? "?"
        let host = peer?.ipAddress ?? address
        return state.withLock { state -> UInt64? in
            let fromHost = state.open.values.lazy.filter { $0.host == host }.count
            guard state.open.count < limit, fromHost < perAddress else {
                state.refused += 1
                return nil
            }
            let id = state.nextID
            state.nextID += 1
            state.accepted += 1
            state.open[id] = Connection(id: id, clientID: nil, address: address, host: host, connectedAt: now, requests: [:], bytesIn: 0, bytesOut: 0, groups: [])
            return id
        }
    }

    func request(connection id: UInt64, header: KafkaRequestHeader, bytes: Int, group: String? = nil) {
        state.withLock { state in
            guard var connection = state.open[id] else { return }
            state.open[id] = nil  // unique storage while it changes
            if let clientID = header.clientID { connection.clientID = clientID }
            if let group, !group.isEmpty, connection.groups.count < 16 { connection.groups.insert(group) }
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
        let now = clock()
        state.withLock { state in
            guard let connection = state.open.removeValue(forKey: id) else { return }
            state.closed.append(Closed(connection: connection, closedAt: now, reason: reason?.description))
            state.closed.removeAll { now - $0.closedAt > Self.closedKeptFor }
            if state.closed.count > Self.closedKeptAtMost { state.closed.removeFirst(state.closed.count - Self.closedKeptAtMost) }
            if let reason {
                state.lastErrors.append(reason.description)
                if state.lastErrors.count > 20 { state.lastErrors.removeFirst() }
            }
        }
    }

    /// Everything the instructor's view needs, from one look.
    public func snapshot() -> Snapshot {
        let now = clock()
        return state.withLock { state in
            state.closed.removeAll { now - $0.closedAt > Self.closedKeptFor }
            return Snapshot(open: state.open.values.sorted { $0.id < $1.id }, closed: state.closed, accepted: state.accepted, refused: state.refused)
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
