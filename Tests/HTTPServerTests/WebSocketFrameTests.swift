@testable import HTTPServer
import Testing

@Suite("WebSocket frame headers written by the server")
struct WebSocketFrameTests {
    /// RFC 6455 §5.2: FIN and the text opcode, no mask, and the length in 7 bits, in 16
    /// after 126, or in 64 after 127, big-endian; each at the edges of its form.
    @Test("a text frame's header for every length form", arguments: [
        (0, [0x81, 0]),
        (1, [0x81, 1]),
        (125, [0x81, 125]),
        (126, [0x81, 126, 0, 126]),
        (127, [0x81, 126, 0, 127]),
        (0xFFFF, [0x81, 126, 0xFF, 0xFF]),
        (0x1_0000, [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]),
        (0x0102_0304_0506, [0x81, 127, 0, 0, 1, 2, 3, 4, 5, 6]),
    ] as [(Int, [UInt8])])
    func header(count: Int, expected: [UInt8]) {
        var bytes = [UInt8](repeating: 0xEE, count: WebSocketFrame.maxHeaderCount + 1)
        let written = bytes.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { WebSocketFrame.writeHeader(payloadCount: count, to: $0) } ?? -1
        }
        #expect(written == expected.count)
        #expect(Array(bytes.prefix(written)) == expected)
        // Nothing written past the header.
        #expect(bytes[written...].allSatisfy { $0 == 0xEE })
    }
}
