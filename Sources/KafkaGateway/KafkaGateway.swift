public import Kafka
public import Logging
import NIOCore
import NIOPosix
import ServerSupport
import Synchronization

/// A Kafka gateway in front of the embedded cluster: one listening port per broker on a
/// reachable address, every request forwarded to its broker unchanged, the responses that
/// name brokers rewritten to the gateway's address, so a class's laptops reach a cluster
/// that itself listens on loopback only.
///
/// It runs on SwiftNIO event loops of its own, apart from the HTTP server's thread.
public final class KafkaGateway: Sendable {
    public struct Configuration: Sendable {
        /// The address to listen on: `0.0.0.0` (every interface) or one of this machine's.
        public var listenHost = "0.0.0.0"
        /// The first broker's port; the others follow. 0: any free ports.
        public var listenPort = 9092
        /// The host clients are told to connect to.
        public var advertisedHost = "localhost"
        /// How many consecutive port ranges to try when the first is taken.
        public var portAttempts = 50
        public var maxConnections = 512
        /// Connections from one address: a laptop cannot take every slot. (A classroom
        /// behind one NAT address shares this: raise it there.)
        public var maxConnectionsPerAddress = 128
        /// A request left incomplete this long closes its connection (its bytes held).
        public var partialFrameTimeout: Duration = .seconds(30)
        /// Requests in flight on one connection (librdkafka allows 1,000,000 by default,
        /// but sends at most a few dozen; Java clients 5).
        public var maxInFlight = 1024
        /// The largest request a client may send. Kafka allows 100 MiB; a producer's
        /// requests are about 1 MiB (`message.max.bytes`), so 16 MiB leaves room and keeps
        /// what one connection can make the gateway hold small.
        public var maxRequestBytes = 16 * 1024 * 1024
        /// Bytes held in requests not yet complete, over all connections.
        public var partialFrameBudget = 256 * 1024 * 1024
        /// The largest response a broker may send (Kafka's own limit).
        public var maxFrameBytes = KafkaFrameDecoder.defaultMaximum
        public var eventLoopThreads = 1
        /// Topics a real cluster would hold compacted: a record without a key sent to one
        /// is refused with `INVALID_RECORD`, as Apache Kafka does (``CompactedTopicGuard``).
        public var compactedTopics: Set<String> = []

        public init() {}
    }

    /// The broker behind one listener.
    public struct Upstream: Sendable, Equatable {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Parses a `bootstrap.servers` list of `host:port`.
        public static func list(_ bootstrapServers: String) -> [Upstream] {
            bootstrapServers.split(separator: ",").compactMap { entry in
                guard let colon = entry.lastIndex(of: ":"), let port = Int(entry[entry.index(after: colon)...]) else { return nil }
                return Upstream(host: String(entry[..<colon]), port: port)
            }
        }
    }

    public let configuration: Configuration
    let upstreams: [Upstream]
    private let shared: GatewayShared
    private let group: MultiThreadedEventLoopGroup
    private let state = Mutex<(listeners: [any Channel], ports: [Int], stopped: Bool)>(([], [], false))

    /// Connections through the gateway, for the instructor's views.
    public var registry: ConnectionRegistry { shared.registry }

    /// The consumer groups seen through the gateway, described as a coordinator would
    /// (members whose session timed out dropped first).
    public func groupListing() -> KafkaGroupListing {
        shared.groups.listing()
    }

    /// - Parameter keylessRefused: told each record refused for a missing key, on an event
    ///   loop: the board shows the team its missing key though the record never reaches
    ///   the topic.
    public init(
        configuration: Configuration, upstreams: [Upstream], logger: Logger,
        keylessRefused: (@Sendable (RefusedRecord) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.upstreams = upstreams
        self.shared = GatewayShared(configuration: configuration, logger: logger, keylessRefused: keylessRefused)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
    }

    /// The ports listening, one per broker, in broker order.
    public var ports: [Int] { state.withLock { $0.ports } }

    /// What students put in `bootstrap.servers`: the advertised host and the first port.
    public var bootstrapAddress: String {
        "\(configuration.advertisedHost):\(ports.first ?? configuration.listenPort)"
    }

    /// Binds one port per broker (the first free range from `listenPort` on) and starts
    /// forwarding. Returns the bound ports.
    /// - Throws: ``GatewayError/cannotListen(_:)`` when no range could be bound.
    @discardableResult
    public func start() throws(GatewayError) -> [Int] {
        guard !upstreams.isEmpty else { throw .cannotListen("no broker to front") }
        let addresses: [SocketAddress]
        do {
            addresses = try upstreams.map { try SocketAddress.makeAddressResolvingHost($0.host, port: $0.port) }
        } catch {
            throw .cannotListen("broker address: \(error)")
        }
        var lastError = ""
        for attempt in 0..<max(1, configuration.portAttempts) {
            let base = configuration.listenPort == 0 ? 0 : configuration.listenPort + attempt * upstreams.count
            guard base + upstreams.count - 1 <= 65_535 else { break }
            var bound: [any Channel] = []
            do {
                for (index, address) in addresses.enumerated() {
                    bound.append(try bind(port: base == 0 ? 0 : base + index, upstream: address))
                }
            } catch {
                lastError = "\(error)"
                for channel in bound { try? channel.close().wait() }
                if configuration.listenPort == 0 { break }
                continue
            }
            let ports = bound.map { $0.localAddress?.port ?? 0 }
            shared.setRewriter(BrokerRewriter(
                advertisedHost: configuration.advertisedHost,
                gatewayPorts: Dictionary(zip(upstreams.map { Int32($0.port) }, ports.map { Int32($0) })) { first, _ in first }
            ))
            state.withLock { $0 = (bound, ports, false) }
            if attempt > 0 {
                shared.logger.warning("Kafka gateway: port \(configuration.listenPort) is taken, listening on \(ports.first ?? 0) instead")
            }
            return ports
        }
        try? group.syncShutdownGracefully()
        throw .cannotListen("cannot listen on \(configuration.listenHost) from port \(configuration.listenPort): \(lastError)")
    }

    private func bind(port: Int, upstream: SocketAddress) throws -> any Channel {
        let shared = shared
        return try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let progress = FrameProgress()
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .nanoseconds(Int64(clamping: shared.configuration.partialFrameTimeout.wholeNanoseconds))))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(
                        KafkaFrameDecoder(maximum: shared.configuration.maxRequestBytes, budget: shared.partialFrames, progress: progress)
                    ))
                    try channel.pipeline.syncOperations.addHandler(ClientHandler(shared: shared, upstream: upstream, progress: progress))
                }
            }
            .bind(host: configuration.listenHost, port: port)
            .wait()
    }

    /// Closes the listeners and every connection. Blocking; idempotent.
    public func stop() {
        let listeners = state.withLock { state -> [any Channel]? in
            guard !state.stopped else { return nil }
            state.stopped = true
            return state.listeners
        }
        guard let listeners else { return }
        for listener in listeners { try? listener.close().wait() }
        try? group.syncShutdownGracefully()
    }
}

/// What every connection of one gateway shares.
final class GatewayShared: Sendable {
    let configuration: KafkaGateway.Configuration
    let logger: Logger
    let registry = ConnectionRegistry(clock: { currentMilliseconds() })
    let groups = GroupObserver(clock: { currentMilliseconds() })
    let partialFrames: FrameBudget
    let keylessRefused: (@Sendable (RefusedRecord) -> Void)?
    private let brokers = Mutex(BrokerRewriter(advertisedHost: "", gatewayPorts: [:]))

    init(configuration: KafkaGateway.Configuration, logger: Logger, keylessRefused: (@Sendable (RefusedRecord) -> Void)?) {
        self.configuration = configuration
        self.logger = logger
        self.keylessRefused = keylessRefused
        partialFrames = FrameBudget(bytes: configuration.partialFrameBudget)
    }

    func rewriter() -> BrokerRewriter { brokers.withLock { $0 } }
    func setRewriter(_ rewriter: BrokerRewriter) { brokers.withLock { $0 = rewriter } }
}

extension KafkaGateway {
    /// The host to advertise when none is given: the listen host itself, or for a
    /// wildcard (`0.0.0.0`, `::`) this machine's first non-loopback IPv4 address, so a
    /// laptop on the same network can reach it; `localhost` when there is none.
    public static func defaultAdvertisedHost(listening host: String) -> String {
        guard isWildcard(host) else { return host }
        let devices = (try? System.enumerateDevices()) ?? []
        for device in devices {
            guard let address = device.address, case .v4 = address, let ip = address.ipAddress, !ip.hasPrefix("127.") else { continue }
            return ip
        }
        return "localhost"
    }

    /// Who can reach a gateway listening on `host`, in words for the log.
    public static func reach(listening host: String) -> String {
        if isWildcard(host) { return "every network this machine is on" }
        if host.hasPrefix("127.") || host == "localhost" || host == "::1" { return "this machine only" }
        return "the network of \(host)"
    }

    static func isWildcard(_ host: String) -> Bool {
        host == "0.0.0.0" || host == "::" || host.isEmpty
    }

    /// Where clients reach the broker behind upstream `port`, as the gateway advertises it.
    public func advertisedAddress(ofUpstreamPort port: Int) -> (host: String, port: Int)? {
        guard let index = upstreams.firstIndex(where: { $0.port == port }) else { return nil }
        let ports = ports
        guard index < ports.count else { return nil }
        return (configuration.advertisedHost, ports[index])
    }
}
