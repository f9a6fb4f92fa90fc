/// How to reach a Kafka cluster, shared by producers, consumers and the admin client.
///
/// Typed fields cover what StreamSocial itself relies on; ``properties`` passes any other
/// librdkafka property through unchanged (`security.protocol`, `sasl.*`, `ssl.*`: real
/// workshop clusters use SASL). Unknown keys are rejected when a client is created, with
/// the key named in the error.
public struct KafkaConfiguration: Sendable, Equatable {
    /// Comma-separated `host:port` list (`bootstrap.servers`).
    public var bootstrapServers: String
    /// Sent to brokers to identify this process. Default: `streamsocial`.
    public var clientID: String
    /// Extra librdkafka properties, applied after the typed fields (so they win).
    public var properties: [String: String]

    public init(bootstrapServers: String, clientID: String = "streamsocial", properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.properties = properties
    }

    var dictionary: [(String, String)] {
        [("bootstrap.servers", bootstrapServers), ("client.id", clientID)]
    }

    /// ``properties`` in a stable order, applied last.
    var passThrough: [(String, String)] {
        properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
