import Foundation
import Synchronization

/// Many WebSocket clients subscribed to every channel, all read on one thread: the
/// dashboard open on a whole class's laptops. It reads and discards what arrives, counting
/// bytes, and notes each client the server closed. Latency is measured by the
/// ``WebSocketWatcher``, one more reading client among them; parsing every crowd frame
/// would take the load generator's CPU from the server it shares the machine with.
public final class WebSocketCrowd: @unchecked Sendable {
    /// Every channel the dashboard shows (docs/API.md).
    static let everyChannel = ["messages", "partitions", "ordering", "throughput", "lag", "leaderboard", "achievements", "clients"]

    /// What the crowd saw.
    public struct Report: Sendable, Codable {
        /// Clients asked for.
        public var clients: Int
        /// Clients whose upgrade the server accepted (101).
        public var connected: Int
        /// Clients the server closed before the end of the run.
        public var closedByServer: Int
        /// Bytes read over all clients.
        public var bytes: Int
        public var seconds: Double
    }

    /// Microseconds between two polls of the crowd's sockets.
    static let pollInterval: UInt32 = 2_000

    private let connections: [WebSocketConnection]
    private let refused: Int
    private let stopFlag = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    private let counts = Mutex<(bytes: Int, closed: Int)>((0, 0))
    /// When every client had connected: the report's seconds are reading time.
    private let start: ContinuousClock.Instant

    /// Connects `count` clients one after the other, subscribes each to every channel
    /// and starts reading.
    init(count: Int, host: String, port: Int) throws {
        var connections: [WebSocketConnection] = []
        var refused = 0
        for _ in 0..<count {
            let connection = try WebSocketConnection(port: port, host: host, timeoutSeconds: 5)
            guard connection.handshakeStatus == 101 else {
                refused += 1
                connection.close()
                continue
            }
            try connection.subscribe(to: Self.everyChannel)
            connections.append(connection)
        }
        self.connections = connections
        self.refused = refused
        start = .now
        Thread { [self] in
            read()
            done.signal()
        }.start()
    }

    /// Polls every client's socket and drains whatever arrived, at most once per
    /// ``pollInterval``: each `poll()` walks every socket, and polling again for each
    /// frame would take the load generator's CPU, on the cores the server runs on. The
    /// sockets' buffers hold what arrives meanwhile; latency is the watcher's to
    /// measure, on its own connection.
    private func read() {
        var descriptors = connections.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !stopFlag.load(ordering: .relaxed), !descriptors.isEmpty {
            guard poll(&descriptors, nfds_t(descriptors.count), 100) > 0 else { continue }
            var bytes = 0
            var closed: [Int] = []
            for index in descriptors.indices where descriptors[index].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { recv(descriptors[index].fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if count > 0 {
                    bytes += count
                } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                    closed.append(index)
                }
            }
            for index in closed.reversed() { descriptors.remove(at: index) }
            counts.withLock {
                $0.bytes += bytes
                $0.closed += closed.count
            }
            usleep(Self.pollInterval)
        }
    }

    /// Stops reading, closes every client and reports.
    func finish() -> Report {
        stopFlag.store(true, ordering: .relaxed)
        done.wait()
        let seconds = (ContinuousClock.now - start).inMilliseconds / 1000
        for connection in connections { connection.close() }
        let (bytes, closed) = counts.withLock { $0 }
        return Report(clients: connections.count + refused, connected: connections.count, closedByServer: closed, bytes: bytes, seconds: seconds)
    }
}
