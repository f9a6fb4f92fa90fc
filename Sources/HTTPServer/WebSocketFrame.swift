internal import CLibWebSockets
import Foundation

/// Identifies one WebSocket client for the life of its connection.
public struct WebSocketClientID: Hashable, Sendable, CustomStringConvertible {
    let raw: UInt64
    public var description: String { "ws#\(raw)" }
}

/// A text frame encoded once and shared by every client it is sent to. The buffer keeps
/// `LWS_PRE` bytes of headroom in front of the payload, where libwebsockets writes the
/// frame header; that happens only on the service thread, one client at a time.
final class WebSocketFrame: @unchecked Sendable {
    let buffer: UnsafeMutableRawPointer
    let count: Int
    /// A newer frame with the same key replaces this one in a client's backlog (the
    /// latest snapshot wins over an older one not yet sent).
    let coalesceKey: String?
    /// When it was made: the time to the client's socket is measured from here.
    let createdAt = ContinuousClock.now

    init(text: String, coalesceKey: String?) {
        var text = text
        let count = text.withUTF8 { $0.count }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Int(CLibWebSockets_LWS_PRE) + count, alignment: 16)
        text.withUTF8 { utf8 in
            if let base = utf8.baseAddress {
                (buffer + Int(CLibWebSockets_LWS_PRE)).copyMemory(from: base, byteCount: count)
            }
        }
        self.buffer = buffer
        self.count = count
        self.coalesceKey = coalesceKey
    }

    deinit { buffer.deallocate() }

    var payload: UnsafeMutablePointer<UInt8> {
        (buffer + Int(CLibWebSockets_LWS_PRE)).assumingMemoryBound(to: UInt8.self)
    }

    /// The most bytes a frame's header takes (RFC 6455 §5.2: 2, plus 8 of length).
    static let maxHeaderCount = 10

    /// Writes the header of a final, unmasked text frame of `count` payload bytes (a
    /// server's frame, RFC 6455 §5.2) at `destination`, which has room for
    /// ``maxHeaderCount`` bytes; returns how many it wrote. Frames queued for one client
    /// are written framed here, in one send: each through `lws_write` was one system
    /// call and one service pass apiece.
    static func writeHeader(payloadCount count: Int, to destination: UnsafeMutablePointer<UInt8>) -> Int {
        destination[0] = 0x81  // FIN, text
        switch count {
        case ..<126:
            destination[1] = UInt8(truncatingIfNeeded: count)
            return 2
        case ...0xFFFF:
            destination[1] = 126
            destination[2] = UInt8(truncatingIfNeeded: count >> 8)
            destination[3] = UInt8(truncatingIfNeeded: count)
            return 4
        default:
            destination[1] = 127
            for index in 0..<8 {
                destination[2 + index] = UInt8(truncatingIfNeeded: UInt64(count) >> (56 - 8 * index))
            }
            return 10
        }
    }
}
