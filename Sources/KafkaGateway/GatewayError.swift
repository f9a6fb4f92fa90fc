/// Why the gateway closed a connection or could not start.
public enum GatewayError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A frame's size is below 0 or above the limit.
    case frameSize(Int64)
    /// Bytes that are not the Kafka message they claim to be.
    case unparsable(String)
    /// A request the embedded cluster does not serve, or whose bytes do not fit its
    /// layout.
    case refusedRequest(String)
    /// A response names a broker the gateway does not front.
    case unknownBroker(String)
    /// A response that answers no request in flight.
    case unexpectedResponse(String)
    /// Too many requests in flight on one connection, or too many connections.
    case overloaded(String)
    /// The broker behind the gateway could not be reached.
    case brokerUnreachable(String)
    /// No port could be bound.
    case cannotListen(String)

    public var description: String {
        switch self {
        case .frameSize(let size): "frame size \(size) is out of bounds"
        case .unparsable(let what): "unreadable \(what)"
        case .unknownBroker(let what), .refusedRequest(let what), .unexpectedResponse(let what), .overloaded(let what),
             .brokerUnreachable(let what), .cannotListen(let what): what
        }
    }
}
