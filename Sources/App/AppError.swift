public import Kafka
public import HTTPServer
public import KafkaGateway

/// Why the server could not start.
public enum AppError: Error, CustomStringConvertible {
    case kafka(KafkaError)
    case http(HTTPServer.StartError)
    case gateway(GatewayError)
    case publicDirectoryMissing(String)

    public var description: String {
        switch self {
        case .kafka(let error): "Kafka: \(error)"
        case .http(let error): "HTTP: \(error)"
        case .gateway(let error): "Kafka gateway: \(error)"
        case .publicDirectoryMissing(let path): "no dashboard folder at \(path) (pass --public-dir)"
        }
    }
}
