public import NIOCore

/// Rewrites the responses that name brokers so that clients reach them through the
/// gateway: Metadata (3) and FindCoordinator (10). It also caps the versions an
/// ApiVersions (18) response advertises to the ones the gateway parses, so a client
/// never picks a version whose broker addresses or group fields the gateway could not
/// read.
///
/// Only classic (non-flexible) encodings are parsed: librdkafka 2.0.2's embedded cluster
/// advertises no flexible version (docs/GATEWAY.md), and the cap keeps it that way
/// should a later one.
public struct BrokerRewriter: Sendable {
    /// The highest version of each API the gateway parses; others are passed unparsed.
    static let parsedVersions: [Int16: Int16] = [
        APIKey.metadata: 8,
        APIKey.findCoordinator: 2,
        APIKey.joinGroup: 5,
        APIKey.syncGroup: 3,
        APIKey.heartbeat: 3,
        APIKey.leaveGroup: 2,
        APIKey.offsetCommit: 7,
        APIKey.produce: 8,
    ]

    /// The host clients are told.
    public let advertisedHost: String
    /// Gateway port by upstream broker port.
    public let gatewayPorts: [Int32: Int32]

    public init(advertisedHost: String, gatewayPorts: [Int32: Int32]) {
        self.advertisedHost = advertisedHost
        self.gatewayPorts = gatewayPorts
    }

    /// Whether responses to `apiKey` are rewritten.
    static func rewrites(_ apiKey: Int16) -> Bool {
        apiKey == APIKey.metadata || apiKey == APIKey.findCoordinator || apiKey == APIKey.apiVersions
    }

    /// `frame` (a response without its size) rewritten for `apiKey` at `version`.
    /// - Throws: ``GatewayError`` when the response cannot be read, or names a broker the
    ///   gateway does not front: passing it on would hand the client an address it
    ///   cannot reach.
    public func rewrite(_ frame: ByteBuffer, apiKey: Int16, version: Int16) throws(GatewayError) -> ByteBuffer {
        switch apiKey {
        case APIKey.metadata: return try metadata(frame, version: version)
        case APIKey.findCoordinator: return try findCoordinator(frame, version: version)
        case APIKey.apiVersions: return try apiVersions(frame, version: version)
        default: return frame
        }
    }

    private func gatewayPort(for port: Int32) throws(GatewayError) -> Int32 {
        guard let mapped = gatewayPorts[port] else {
            throw .unknownBroker("a response names broker port \(port), which the gateway does not front")
        }
        return mapped
    }

    /// Metadata v0–v8: `[throttle_time_ms (v3+)] brokers[node_id, host, port, rack (v1+)] …`.
    private func metadata(_ frame: ByteBuffer, version: Int16) throws(GatewayError) -> ByteBuffer {
        guard (0...8).contains(version) else { throw .unparsable("Metadata v\(version)") }
        var input = frame
        var output = ByteBuffer()
        output.reserveCapacity(frame.readableBytes + 64)
        guard let correlation = input.readInteger(as: Int32.self) else { throw .unparsable("Metadata response header") }
        output.writeInteger(correlation)
        if version >= 3 {
            guard let throttle = input.readInteger(as: Int32.self) else { throw .unparsable("Metadata throttle") }
            output.writeInteger(throttle)
        }
        guard let count = input.readKafkaArrayCount(minimumElementSize: 10) else { throw .unparsable("Metadata brokers") }
        output.writeInteger(Int32(count))
        for _ in 0..<count {
            guard let node = input.readInteger(as: Int32.self), input.readKafkaString() != nil,
                  let port = input.readInteger(as: Int32.self)
            else { throw .unparsable("Metadata broker") }
            output.writeInteger(node)
            output.writeKafkaString(advertisedHost)
            output.writeInteger(try gatewayPort(for: port))
            if version >= 1 {
                guard let rack = input.readKafkaNullableString() else { throw .unparsable("Metadata rack") }
                output.writeKafkaNullableString(rack)
            }
        }
        output.writeImmutableBuffer(input)
        return output
    }

    /// FindCoordinator v0: `error_code node_id host port`; v1–v2: `throttle_time_ms
    /// error_code error_message node_id host port`. An error answer (port −1) is passed as
    /// it is.
    private func findCoordinator(_ frame: ByteBuffer, version: Int16) throws(GatewayError) -> ByteBuffer {
        guard (0...2).contains(version) else { throw .unparsable("FindCoordinator v\(version)") }
        var input = frame
        var output = ByteBuffer()
        output.reserveCapacity(frame.readableBytes + 64)
        guard let correlation = input.readInteger(as: Int32.self) else { throw .unparsable("FindCoordinator response header") }
        output.writeInteger(correlation)
        if version >= 1 {
            guard let throttle = input.readInteger(as: Int32.self) else { throw .unparsable("FindCoordinator throttle") }
            output.writeInteger(throttle)
        }
        guard let error = input.readInteger(as: Int16.self) else { throw .unparsable("FindCoordinator error") }
        output.writeInteger(error)
        if version >= 1 {
            guard let message = input.readKafkaNullableString() else { throw .unparsable("FindCoordinator message") }
            output.writeKafkaNullableString(message)
        }
        guard let node = input.readInteger(as: Int32.self), let host = input.readKafkaString(),
              let port = input.readInteger(as: Int32.self)
        else { throw .unparsable("FindCoordinator coordinator") }
        output.writeInteger(node)
        if error == 0 {
            output.writeKafkaString(advertisedHost)
            output.writeInteger(try gatewayPort(for: port))
        } else {
            output.writeKafkaString(host)
            output.writeInteger(port)
        }
        output.writeImmutableBuffer(input)
        return output
    }

    /// ApiVersions v0–v2: `error_code api_keys[api_key min max] [throttle_time_ms (v1+)]`.
    /// Caps each API the gateway parses at its highest parsed version.
    ///
    /// Clients ask with v3 first. The embedded cluster supports v0–v2 and refuses v3 with
    /// `UNSUPPORTED_VERSION` (35) in a hand-made half-flexible body; that refusal is passed
    /// as it is and the client asks again with v2. A v3 answer *without* error would come
    /// from a broker the gateway cannot cap, so it is refused.
    private func apiVersions(_ frame: ByteBuffer, version: Int16) throws(GatewayError) -> ByteBuffer {
        var input = frame
        guard let correlation = input.readInteger(as: Int32.self), let error = input.readInteger(as: Int16.self) else {
            throw .unparsable("ApiVersions response")
        }
        if version >= 3 {
            guard error != 0 else { throw .unparsable("ApiVersions v\(version) answered without error (the gateway caps classic encodings only)") }
            return frame
        }
        guard let count = input.readKafkaArrayCount(minimumElementSize: 6) else { throw .unparsable("ApiVersions response") }
        var output = ByteBuffer()
        output.reserveCapacity(frame.readableBytes)
        output.writeInteger(correlation)
        output.writeInteger(error)
        var entries: [(key: Int16, min: Int16, max: Int16)] = []
        for _ in 0..<count {
            guard let key = input.readInteger(as: Int16.self), let low = input.readInteger(as: Int16.self),
                  let high = input.readInteger(as: Int16.self)
            else { throw .unparsable("ApiVersions entry") }
            let capped = Self.parsedVersions[key].map { min(high, $0) } ?? high
            if capped >= low { entries.append((key, low, capped)) }
        }
        output.writeInteger(Int32(entries.count))
        for entry in entries {
            output.writeInteger(entry.key)
            output.writeInteger(entry.min)
            output.writeInteger(entry.max)
        }
        output.writeImmutableBuffer(input)
        return output
    }
}
