public import Kafka
public import HTTPServer

/// Why the server could not start.
public enum AppError: Error, CustomStringConvertible {
    case kafka(KafkaError)
    case http(HTTPServer.StartError)
    case publicDirectoryMissing(String)

    public var description: String {
        switch self {
        case .kafka(let error): "Kafka: \(error)"
        case .http(let error): "HTTP: \(error)"
        case .publicDirectoryMissing(let path): "no dashboard folder at \(path) (pass --public-dir)"
        }
    }
}
