import KafkaGateway
import Leaderboard
import Synchronization

/// Who is connected to the Kafka gateway, as the instructor sees the room: one row per
/// client (its `client.id` from one address, over however many connections), the team its
/// consumer group names, its requests per second by API, the bytes that passed and why
/// the gateway last closed one of its connections. Refreshed every second by the
/// `gateway-clients` job; `GET /api/clients` and the `clients` channel show it.
final class ConnectedClients: Sendable {
    private struct State {
        var report = ClientsReport(address: "", clients: [], accepted: 0, refused: 0)
        /// Each open connection's request counts at the last refresh, and when.
        var previous: [UInt64: [Int16: Int]] = [:]
        var previousAt: Int64?
    }

    private let gateway: KafkaGateway
    private let teams: Set<String>
    private let state = Mutex(State())

    init(gateway: KafkaGateway, workshop: Workshop) {
        self.gateway = gateway
        self.teams = Set(workshop.teams.map(\.name))
    }

    var report: ClientsReport { state.withLock { $0.report } }

    /// Takes a new look at the gateway's connections; returns whether the report changed.
    @discardableResult
    func refresh(now: Int64) -> Bool {
        let snapshot = gateway.registry.snapshot()
        return state.withLock { state in
            let seconds = state.previousAt.map { Double(max(1, now - $0)) / 1000 } ?? 1
            var rows: [String: ClientsReport.Client] = [:]
            for connection in snapshot.open {
                let key = "\(connection.clientID ?? "")@\(connection.host)"
                var row = rows[key] ?? ClientsReport.Client(clientID: connection.clientID, address: connection.host, connectedAt: connection.connectedAt)
                row.connections += 1
                row.connectedAt = min(row.connectedAt, connection.connectedAt)
                row.bytesIn += connection.bytesIn
                row.bytesOut += connection.bytesOut
                row.groups.formUnion(connection.groups)
                let before = state.previous[connection.id] ?? [:]
                for (api, count) in connection.requests {
                    row.requests += count
                    let rate = Double(max(0, count - (before[api] ?? 0))) / seconds
                    if rate > 0 { row.requestsPerSecond[KafkaAPINames.name(of: api), default: 0] += rate }
                }
                rows[key] = row
            }
            for closed in snapshot.closed {
                guard let reason = closed.reason else { continue }
                let key = "\(closed.connection.clientID ?? "")@\(closed.connection.host)"
                rows[key]?.lastError = reason
            }
            var clients = rows.values.map { row -> ClientsReport.Client in
                var row = row
                row.team = row.groups.sorted().first { teams.contains($0) }
                row.requestsPerSecond = row.requestsPerSecond.mapValues { ($0 * 10).rounded() / 10 }
                return row
            }
            clients.sort { ($0.team ?? "~", $0.clientID ?? "", $0.address) < ($1.team ?? "~", $1.clientID ?? "", $1.address) }
            state.previous = Dictionary(uniqueKeysWithValues: snapshot.open.map { ($0.id, $0.requests) })
            state.previousAt = now
            let report = ClientsReport(address: gateway.bootstrapAddress, clients: clients, accepted: snapshot.accepted, refused: snapshot.refused)
            defer { state.report = report }
            return report != state.report
        }
    }

    /// The clients whose consumer group is `team`.
    func clients(of team: String) -> [ClientsReport.Client] {
        report.clients.filter { $0.team == team }
    }
}

/// The body of `GET /api/clients` and of the `clients` channel's snapshot.
struct ClientsReport: Encodable, Sendable, Equatable {
    struct Client: Encodable, Sendable, Equatable {
        var clientID: String?
        /// The laptop's address.
        var address: String
        /// The workshop team its consumer group names, if any.
        var team: String?
        /// Every consumer group its requests named.
        var groups: Set<String> = []
        /// Milliseconds since the epoch, of its oldest open connection.
        var connectedAt: Int64
        var connections = 0
        var requests = 0
        /// Over the last refresh, by API name.
        var requestsPerSecond: [String: Double] = [:]
        var bytesIn = 0
        var bytesOut = 0
        /// Why the gateway last closed one of its connections (in the last minute).
        var lastError: String?

        init(clientID: String?, address: String, connectedAt: Int64) {
            self.clientID = clientID
            self.address = address
            self.connectedAt = connectedAt
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(clientID, forKey: .clientID)
            try container.encode(address, forKey: .address)
            try container.encode(team, forKey: .team)
            try container.encode(groups.sorted(), forKey: .groups)
            try container.encode(connectedAt, forKey: .connectedAt)
            try container.encode(connections, forKey: .connections)
            try container.encode(requests, forKey: .requests)
            try container.encode(requestsPerSecond, forKey: .requestsPerSecond)
            try container.encode(bytesIn, forKey: .bytesIn)
            try container.encode(bytesOut, forKey: .bytesOut)
            try container.encode(lastError, forKey: .lastError)
        }

        enum CodingKeys: String, CodingKey {
            case clientID, address, team, groups, connectedAt, connections, requests, requestsPerSecond, bytesIn, bytesOut, lastError
        }
    }

    /// What students put in `bootstrap.servers`.
    var address: String
    var clients: [Client]
    /// Connections accepted and refused (over the limit) since start.
    var accepted: Int
    var refused: Int
}
