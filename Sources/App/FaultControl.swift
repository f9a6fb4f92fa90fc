import FastJSON
import HTTPServer
import Kafka
import Synchronization

/// Broker faults on the embedded cluster, for a class to watch retries, leader moves and
/// lag live (and for the fault tests): take a broker down and up, delay its answers, move
/// a partition's leader. Off on an external cluster: nobody should be able to break a
/// real one from a dashboard.
final class FaultControl: Sendable {
    /// What is injected now.
    struct Status: Encodable, Sendable {
        struct Broker: Encodable, Sendable {
            var id: Int32
            var up: Bool
            var rttMs: Int64
        }

        struct LeaderMove: Encodable, Sendable, Equatable {
            var topic: String
            var partition: Int32
            var broker: Int32
        }

        /// False on an external cluster.
        var available: Bool
        var brokers: [Broker]
        /// Leader moves made here, latest per partition.
        var leaders: [LeaderMove]
    }

    /// One instructor action, validated.
    enum Action: Equatable {
        case broker(Int32, up: Bool)
        case roundTripTime(Int32, milliseconds: Int64)
        case leader(topic: String, partition: Int32, broker: Int32)
        /// Every broker up, no delay.
        case clear
    }

    static let maxRoundTripMilliseconds: Int64 = 10_000
    static let notEmbedded = HTTPError(status: 409, code: "not_embedded", message: "faults can be injected only into the embedded cluster")

    private let cluster: EmbeddedKafka?
    private let topics: [String: Int]
    private let status: Mutex<Status>

    init(cluster: EmbeddedKafka?, topics: [KafkaTopicSpec]) {
        self.cluster = cluster
        self.topics = Dictionary(topics.map { ($0.name, $0.partitions) }, uniquingKeysWith: { first, _ in first })
        let brokers = (1...Int32(max(1, cluster?.brokerCount ?? 1))).map { Status.Broker(id: $0, up: true, rttMs: 0) }
        status = Mutex(Status(available: cluster != nil, brokers: cluster == nil ? [] : brokers, leaders: []))
    }

    var current: Status { status.withLock { $0 } }

    /// Reads `{"action": "broker_down" | "broker_up" | "set_rtt" | "move_leader" | "clear", …}`.
    /// - Throws: 400 naming the field that is wrong.
    func parse(_ fields: [String: FlatJSON.Value]) throws(HTTPError) -> Action {
        guard cluster != nil else { throw Self.notEmbedded }
        guard case .string(let action) = fields["action"] else {
            throw .badRequest("action must be one of broker_down, broker_up, set_rtt, move_leader, clear", code: "invalid_field")
        }
        switch action {
        case "broker_down", "broker_up":
            return .broker(try broker(fields), up: action == "broker_up")
        case "set_rtt":
            guard case .integer(let rtt) = fields["rtt_ms"], (0...Self.maxRoundTripMilliseconds).contains(rtt) else {
                throw .badRequest("rtt_ms must be a whole number from 0 to \(Self.maxRoundTripMilliseconds)", code: "invalid_field")
            }
            return .roundTripTime(try broker(fields), milliseconds: rtt)
        case "move_leader":
            guard case .string(let topic) = fields["topic"], let partitions = topics[topic] else {
                throw .badRequest("topic must be one of \(topics.keys.sorted().joined(separator: ", "))", code: "invalid_field")
            }
            guard case .integer(let partition) = fields["partition"], (0..<Int64(partitions)).contains(partition) else {
                throw .badRequest("partition must be a whole number from 0 to \(partitions - 1)", code: "invalid_field")
            }
            return .leader(topic: topic, partition: Int32(partition), broker: try broker(fields))
        case "clear":
            return .clear
        default:
            throw .badRequest("action must be one of broker_down, broker_up, set_rtt, move_leader, clear", code: "invalid_field")
        }
    }

    private func broker(_ fields: [String: FlatJSON.Value]) throws(HTTPError) -> Int32 {
        let count = Int64(cluster?.brokerCount ?? 0)
        guard case .integer(let id) = fields["broker"], (1...max(1, count)).contains(id) else {
            throw .badRequest("broker must be a broker id from 1 to \(count)", code: "invalid_field")
        }
        return Int32(id)
    }

    /// Applies `action` to the embedded cluster.
    /// - Throws: 409 on an external cluster; 503 when the cluster refuses.
    func apply(_ action: Action) throws(HTTPError) -> Status {
        guard let cluster else { throw Self.notEmbedded }
        do throws(KafkaError) {
            switch action {
            case .broker(let id, let up):
                try cluster.setBroker(id, up: up)
                status.withLock { $0.brokers[Int(id) - 1].up = up }
            case .roundTripTime(let id, let milliseconds):
                try cluster.setBroker(id, roundTripTime: .milliseconds(milliseconds))
                status.withLock { $0.brokers[Int(id) - 1].rttMs = milliseconds }
            case .leader(let topic, let partition, let id):
                try cluster.setLeader(topic: topic, partition: partition, broker: id)
                status.withLock { status in
                    status.leaders.removeAll { $0.topic == topic && $0.partition == partition }
                    status.leaders.append(.init(topic: topic, partition: partition, broker: id))
                }
            case .clear:
                // Recorded broker by broker: a refusal half-way leaves the status true.
                for (index, broker) in current.brokers.enumerated() {
                    try cluster.setBroker(broker.id, up: true)
                    status.withLock { $0.brokers[index].up = true }
                    try cluster.setBroker(broker.id, roundTripTime: .zero)
                    status.withLock { $0.brokers[index].rttMs = 0 }
                }
            }
        } catch {
            throw HTTPError(status: 503, code: "fault_refused", message: "the embedded cluster refused: \(error.message)")
        }
        return current
    }
}
