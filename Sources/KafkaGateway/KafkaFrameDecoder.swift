public import NIOCore

/// Cuts a byte stream into Kafka frames (`int32 size`, then `size` bytes), emitting each
/// frame without its size. A size below 0 or above the maximum closes the connection:
/// it is garbage, or a client that would make the gateway buffer without bound.
public struct KafkaFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// Apache Kafka's own default limit for a request (`socket.request.max.bytes`).
    public static let defaultMaximum = 100 * 1024 * 1024

    let maximum: Int

    public init(maximum: Int = KafkaFrameDecoder.defaultMaximum) {
        self.maximum = maximum
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard size >= 0, Int(size) <= maximum else { throw GatewayError.frameSize(Int64(size)) }
        guard buffer.readableBytes >= 4 + Int(size) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let frame = buffer.readSlice(length: Int(size)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A frame cut short by the peer closing is dropped with the connection.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
