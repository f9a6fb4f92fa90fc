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
}
