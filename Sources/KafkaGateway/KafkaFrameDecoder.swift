public import NIOCore
import Synchronization

/// Whether a connection's decoder holds a frame not yet complete: read by the client's
/// handler when the connection has been silent for a while. Event-loop confined.
public final class FrameProgress {
    public internal(set) var partial = false
    public init() {}
}

/// Bytes the gateway holds in frames not yet complete, over all client connections: a
/// few hundred clients each trickling a large frame in must not exhaust memory. Counts
/// the bytes received, not the sizes claimed.
public final class FrameBudget: Sendable {
    private let available: Atomic<Int>

    public init(bytes: Int) {
        available = Atomic(bytes)
    }

    /// Takes `bytes` from the budget; false (and nothing taken) when it has not enough.
    func reserve(_ bytes: Int) -> Bool {
        var current = available.load(ordering: .relaxed)
        while current >= bytes {
            let (exchanged, original) = available.compareExchange(expected: current, desired: current - bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func release(_ bytes: Int) {
        available.add(bytes, ordering: .relaxed)
    }

    public var remaining: Int { available.load(ordering: .relaxed) }
}

/// Cuts a byte stream into Kafka frames (`int32 size`, then `size` bytes), emitting each
/// frame without its size. A size below 0 or above the maximum closes the connection:
/// it is garbage, or a client that would make the gateway buffer without bound.
public struct KafkaFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// Apache Kafka's own default limit for a request (`socket.request.max.bytes`).
    public static let defaultMaximum = 100 * 1024 * 1024

    let maximum: Int
    /// Shared by the client connections; nil for the brokers' side.
    let budget: FrameBudget?
    let progress: FrameProgress?
    /// What this connection's buffered bytes hold of the budget.
    private var reserved = 0

    public init(maximum: Int = KafkaFrameDecoder.defaultMaximum, budget: FrameBudget? = nil, progress: FrameProgress? = nil) {
        self.maximum = maximum
        self.budget = budget
        self.progress = progress
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard size >= 0, Int(size) <= maximum else { throw GatewayError.frameSize(Int64(size)) }
        guard buffer.readableBytes >= 4 + Int(size) else {
            // A frame still coming in: the bytes received so far count against the budget.
            progress?.partial = true
            if let budget, buffer.readableBytes > reserved {
                guard budget.reserve(buffer.readableBytes - reserved) else {
                    throw GatewayError.overloaded("the gateway holds too many partial frames")
                }
                reserved = buffer.readableBytes
            }
            return .needMoreData
        }
        progress?.partial = false
        releaseReservation()
        buffer.moveReaderIndex(forwardBy: 4)
        guard let frame = buffer.readSlice(length: Int(size)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A frame cut short by the peer closing is dropped with the connection.
        defer { releaseReservation() }
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }

    private mutating func releaseReservation() {
        guard reserved > 0 else { return }
        budget?.release(reserved)
        reserved = 0
    }
}
