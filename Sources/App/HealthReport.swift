/// The body of a healthy `GET /healthz`.
struct HealthReport: Encodable, Sendable {
    var status: String
    var brokers: Int
}

/// The body of a ready `GET /readyz`.
struct ReadinessReport: Encodable, Sendable {
    var status: String
}
