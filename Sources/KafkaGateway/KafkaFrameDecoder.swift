public import NIOCore
import Synchronization

/// Bytes the gateway may hold in frames not yet complete, over all client connections:
/// a few hundred clients each trickling a large frame in must not exhaust memory.
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
    /// What this connection's incomplete frame holds of the budget.
    private var reserved = 0

    public init(maximum: Int = KafkaFrameDecoder.defaultMaximum, budget: FrameBudget? = nil) {
        self.maximum = maximum
        self.budget = budget
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard size >= 0, Int(size) <= maximum else { throw GatewayError.frameSize(Int64(size)) }
        guard buffer.readableBytes >= 4 + Int(size) else {
            // A frame still coming in: its size counts against the budget until complete.
            if let budget, reserved == 0, size > 0 {
                guard budget.reserve(Int(size)) else { throw GatewayError.overloaded("the gateway holds too many partial frames") }
                reserved = Int(size)
            }
            return .needMoreData
        }
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
