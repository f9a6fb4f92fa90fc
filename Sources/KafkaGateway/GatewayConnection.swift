import Logging
import NIOCore
import NIOPosix

/// One client's connection through the gateway and the one it opened to its broker,
/// both on one event loop (no locks; every method runs there).
///
/// Requests go up unchanged; each response comes back in request order (Kafka's rule
/// for one connection), so the gateway remembers each request in flight to know what
/// answers it, rewrites the responses that name brokers, and passes the rest unchanged.
/// Each side reads only while the other can take what it reads (back-pressure), so a
/// slow client never makes the gateway buffer a fast broker's answers.
final class GatewayConnection {
    struct InFlight {
        var correlationID: Int32
        var apiKey: Int16
        var apiVersion: Int16
        /// A consumer-group request, to pair with its answer.
        var group: GroupRequest?
        /// Answered by the embedded cluster but not to be passed on: a Produce with
        /// `acks=0`, which Apache Kafka never answers and clients do not expect.
        var discard = false
        /// Produce partitions refused for a record without a key on a compacted topic,
        /// answered `INVALID_RECORD` whatever the embedded cluster says.
        var refused: Set<CompactedTopicGuard.Position> = []
    }

    let id: UInt64
    let client: any Channel
    private let shared: GatewayShared
    private let upstreamAddress: SocketAddress
    private var upstream: (any Channel)?
    private var inFlight = CircularBuffer<InFlight>()
    private var closed = false
    /// The client's address without its port, as a coordinator shows a member's host.
    private lazy var clientHost: String = client.remoteAddress?.ipAddress.map { "/\($0)" } ?? ""

    init(id: UInt64, client: any Channel, upstream: SocketAddress, shared: GatewayShared) {
        self.id = id
        self.client = client
        self.upstreamAddress = upstream
        self.shared = shared
    }

    /// Opens the connection to the broker; the client is read from once it is open.
    func connectUpstream() {
        let bound = NIOLoopBound(self, eventLoop: client.eventLoop)
        let maximum = shared.configuration.maxFrameBytes
        ClientBootstrap(group: client.eventLoop)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maximum: maximum)))
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler(connection: bound.value))
                }
            }
            .connect(to: upstreamAddress)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    guard !closed else {
                        channel.close(promise: nil)
                        return
                    }
                    upstream = channel
                    updateReading()
                case .failure(let error):
                    close(because: .brokerUnreachable("broker \(upstreamAddress): \(error)"))
                }
            }
    }

    // MARK: From the client

    func clientRead(_ frame: ByteBuffer) {
        guard !closed, let upstream else { return }
        var body = frame
        guard let header = KafkaRequestHeader.read(from: &body) else {
            close(because: .unparsable("request header"))
            return
        }
        shared.registry.request(connection: id, header: header, bytes: frame.readableBytes + 4, group: GroupRequest.groupID(apiKey: header.apiKey, version: header.apiVersion, body: body))
        do throws(RequestValidator.Refusal) {
            try RequestValidator.validate(header, body: body)
        } catch {
            switch error {
            case .unsupported(let key, let version):
                close(because: .refusedRequest("API \(key) v\(version) is not served by the embedded cluster"))
            case .malformed(let key, let version):
                close(because: .refusedRequest("API \(key) v\(version) request does not fit its layout"))
            }
            return
        }
        guard inFlight.count < shared.configuration.maxInFlight else {
            close(because: .overloaded("more than \(shared.configuration.maxInFlight) requests in flight"))
            return
        }
        let group = GroupRequest.read(apiKey: header.apiKey, version: header.apiVersion, body: body)
        if case .sync(let name, let generation, let member, let assignments)? = group, !assignments.isEmpty {
            shared.groups.leaderAssigned(group: name, generation: generation, leader: member, assignments: assignments)
        }
        var request = frame
        var refused: Set<CompactedTopicGuard.Position> = []
        if let refusal = CompactedTopicGuard.refusal(frame: frame, header: header, body: body, compacted: shared.configuration.compactedTopics) {
            request = refusal.request
            refused = refusal.positions
            for record in refusal.records { shared.keylessRefused?(record) }
        }
        inFlight.append(InFlight(
            correlationID: header.correlationID, apiKey: header.apiKey, apiVersion: header.apiVersion, group: group,
            discard: !Self.expectsResponse(header, body: body), refused: refused
        ))
        upstream.write(Self.framed(request, allocator: upstream.allocator), promise: nil)
    }

    func clientReadComplete() {
        upstream?.flush()
    }

    /// Produce with `acks=0` gets no response from Apache Kafka (the embedded cluster
    /// answers it anyway: the gateway drops that answer).
    static func expectsResponse(_ header: KafkaRequestHeader, body: ByteBuffer) -> Bool {
        guard header.apiKey == APIKey.produce else { return true }
        var body = body
        if header.apiVersion >= 3 {
            guard body.readKafkaNullableString() != nil else { return true }
        }
        return body.readInteger(as: Int16.self) != 0
    }

    // MARK: From the broker

    func upstreamRead(_ frame: ByteBuffer) {
        guard !closed else { return }
        guard let correlation = frame.getInteger(at: frame.readerIndex, as: Int32.self),
              let request = inFlight.first, request.correlationID == correlation
        else {
            close(because: .unexpectedResponse("a response that answers no request in flight"))
            return
        }
        inFlight.removeFirst()
        guard !request.discard else { return }
        var response = frame
        if !request.refused.isEmpty {
            response = CompactedTopicGuard.refuse(request.refused, in: frame, version: request.apiVersion)
        }
        if let group = request.group {
            var answer = GroupResponse.read(apiKey: request.apiKey, version: request.apiVersion, frame: frame)
            if case .sync(let name, let generation, let member, _) = group, case .sync(let error, _)? = answer, error == SyncRepair.invalidRequest {
                let assigned = shared.groups.assignment(group: name, generation: generation, member: member)
                response = SyncRepair.response(to: frame, version: request.apiVersion, assignment: assigned)
                answer = GroupResponse.read(apiKey: request.apiKey, version: request.apiVersion, frame: response)
            }
            shared.groups.apply(group, answer, clientID: shared.registry.clientID(of: id) ?? "", host: clientHost)
        }
        if BrokerRewriter.rewrites(request.apiKey) {
            do throws(GatewayError) {
                response = try shared.rewriter().rewrite(frame, apiKey: request.apiKey, version: request.apiVersion)
            } catch {
                close(because: error)
                return
            }
        }
        shared.registry.response(connection: id, bytes: response.readableBytes + 4)
        client.write(Self.framed(response, allocator: client.allocator), promise: nil)
    }

    func upstreamReadComplete() {
        client.flush()
    }

    // MARK: Both

    /// The client is read while the broker's side can take more, and the other way round.
    func updateReading() {
        guard !closed else { return }
        let readClient = upstream?.isWritable ?? false
        let readUpstream = client.isWritable
        _ = try? client.syncOptions?.setOption(ChannelOptions.autoRead, value: readClient)
        _ = try? upstream?.syncOptions?.setOption(ChannelOptions.autoRead, value: readUpstream)
    }

    /// Closes both sides once; `reason` nil for a peer that closed.
    func close(because reason: GatewayError?) {
        guard !closed else { return }
        closed = true
        if let reason {
            shared.logger.info("Kafka gateway closed a connection", metadata: [
                "kafka.client": .string(shared.registry.clientID(of: id) ?? "?"),
                "net.peer": .string(client.remoteAddress?.description ?? "?"),
                "reason": .string(reason.description),
            ])
        }
        shared.registry.closed(connection: id, reason: reason)
        client.close(promise: nil)
        upstream?.close(promise: nil)
    }

    private static func framed(_ frame: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: 4 + frame.readableBytes)
        out.writeInteger(Int32(frame.readableBytes))
        out.writeImmutableBuffer(frame)
        return out
    }
}

/// The client's side of a connection.
final class ClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let shared: GatewayShared
    private let upstream: SocketAddress
    private let progress: FrameProgress
    private var connection: GatewayConnection?

    init(shared: GatewayShared, upstream: SocketAddress, progress: FrameProgress) {
        self.shared = shared
        self.upstream = upstream
        self.progress = progress
    }

    func channelActive(context: ChannelHandlerContext) {
        let limits = (total: shared.configuration.maxConnections, perAddress: shared.configuration.maxConnectionsPerAddress)
        guard let id = shared.registry.admit(peer: context.channel.remoteAddress, limit: limits.total, perAddress: limits.perAddress) else {
            shared.logger.warning("Kafka gateway refused a connection: too many", metadata: [
                "net.peer": .string(context.channel.remoteAddress?.description ?? "?"),
                "limit": .string("\(limits.total) in all, \(limits.perAddress) per address"),
            ])
            context.close(promise: nil)
            return
        }
        let connection = GatewayConnection(id: id, client: context.channel, upstream: upstream, shared: shared)
        self.connection = connection
        connection.connectUpstream()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection?.clientRead(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        connection?.clientReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection?.updateReading()
    }

    /// Silent for the partial-frame timeout: a request left half sent holds memory.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent, progress.partial {
            connection?.close(because: .overloaded("a request left incomplete for \(shared.configuration.partialFrameTimeout)"))
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection?.close(because: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection?.close(because: error as? GatewayError ?? .unparsable("connection: \(error)"))
        context.close(promise: nil)
    }
}

/// The broker's side of a connection.
final class UpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connection: GatewayConnection

    init(connection: GatewayConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.upstreamRead(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        connection.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection.updateReading()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.close(because: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.close(because: error as? GatewayError ?? .unparsable("broker connection: \(error)"))
    }
}
