import Foundation

/// A blocking TCP socket with a receive timeout: for the load generator and tests, where
/// one thread drives one connection.
public final class BlockingSocket {
    private var fd: Int32
    private var buffered: [UInt8] = []

    public init(host: String, port: Int, timeoutSeconds: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPClientError("socket() failed") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var noDelay: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let reason = errno
            // Marked closed: the deinit of a class whose init throws still runs, and a
            // second close would hit whatever another thread opened under that number.
            close()
            throw HTTPClientError("connect to \(host):\(port) failed: errno \(reason)")
        }
    }

    deinit { close() }

    /// The socket's file descriptor, for a reader that polls many sockets at once.
    var descriptor: Int32 { fd }

    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    public func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw HTTPClientError("send failed: errno \(errno)") }
            offset += sent
        }
    }

    /// Reads more bytes into the buffer; false at end of stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0, errno == ECONNRESET { return false }  // the peer closed hard: end of stream too
        if count < 0 { throw HTTPClientError("recv failed (timeout?): errno \(errno)") }
        if count == 0 { return false }
        buffered += chunk[..<count]
        return true
    }

    public func readUntil(_ delimiter: [UInt8]) throws -> [UInt8] {
        var searchFrom = 0
        while true {
            if buffered.count >= delimiter.count {
                for start in searchFrom...(buffered.count - delimiter.count) where buffered[start..<(start + delimiter.count)].elementsEqual(delimiter) {
                    let result = Array(buffered[..<start])
                    buffered.removeFirst(start + delimiter.count)
                    return result
                }
                searchFrom = buffered.count - delimiter.count + 1
            }
            guard try fill() else { throw HTTPClientError("connection closed before \(delimiter)") }
        }
    }

    public func read(exactly count: Int) throws -> [UInt8] {
        while buffered.count < count {
            guard try fill() else { throw HTTPClientError("connection closed after \(buffered.count) of \(count) bytes") }
        }
        let result = Array(buffered[..<count])
        buffered.removeFirst(count)
        return result
    }

    /// Whether the peer closed the connection (reads until end of stream or timeout).
    public func readToEnd() throws -> [UInt8] {
        while try fill() {}
        defer { buffered = [] }
        return buffered
    }
}
