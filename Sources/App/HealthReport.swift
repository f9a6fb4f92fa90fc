/// The body of a healthy `GET /healthz`.
struct HealthReport: Encodable, Sendable {
    var status: String
    var brokers: Int
}
