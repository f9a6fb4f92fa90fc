internal import CLibWebSockets
import Synchronization

/// The thread-safe half of the server: other threads post commands here and wake the
/// libwebsockets service thread, which drains them (the only other thread-safe lws call
/// is `lws_cancel_service`).
final class ServerCore: Sendable {
    enum Command: Sendable {
        case respond(UInt64, HTTPResponse)
        /// Broadcasts `update` (if any) and keeps `snapshot` (if any) as the channel's.
        case publish(channel: String, update: WebSocketFrame?, snapshot: WebSocketFrame?)
        case send(WebSocketFrame, to: WebSocketClientID)
        case subscribe(WebSocketClientID, channels: Set<String>?)
        /// Refuse new requests (503 `stopping`) and WebSockets; count those in flight.
        case drain
        case stop
    }

    private struct Inbox: ~Copyable {
        var commands: [Command] = []
        /// Set while the context exists; cleared under this lock before it is destroyed,
        /// so no thread wakes a context being destroyed.
        var context: SendableContext?
        var serviceThread: pthread_t?
        var stats = Stats()
    }

    private let inbox = Mutex(Inbox())

    struct Stats {
        var webSocketClients = 0
        var droppedFrames = 0
        /// While draining: requests not answered yet, as of the last service pass (nil
        /// until the service thread has counted once).
        var requestsInFlight: Int?
        /// While draining: kept-alive connections whose next request the drain waits for
        /// (see `ServiceLoop.keepAliveGrace`).
        var awaitedConnections = 0
    }

    /// What the service thread last counted.
    var stats: Stats { inbox.withLock { $0.stats } }

    /// Service thread: updates the counts others read.
    func count(_ update: (inout Stats) -> Void) {
        inbox.withLock { update(&$0.stats) }
    }

    /// Queues `command` and wakes the service thread when the queue was empty. From the
    /// service thread itself no wake-up is needed: it drains after every handler call.
    func post(_ command: Command) {
        inbox.withLock { inbox in
            inbox.commands.append(command)
            guard inbox.commands.count == 1, let context = inbox.context else { return }
            if let service = inbox.serviceThread, pthread_equal(service, pthread_self()) != 0 { return }
            lws_cancel_service(context.pointer)
        }
    }

    /// Takes every queued command. Service thread only.
    func drain() -> [Command] {
        inbox.withLock { inbox in
            guard !inbox.commands.isEmpty else { return [] }
            defer { inbox.commands = [] }
            return inbox.commands
        }
    }

    func attach(context: OpaquePointer) {
        inbox.withLock { inbox in
            inbox.context = SendableContext(pointer: context)
            inbox.serviceThread = pthread_self()
        }
    }

    func detach() {
        inbox.withLock { $0.context = nil }
    }
}

/// The lws context pointer, shared only for `lws_cancel_service`, which libwebsockets
/// documents as callable from any thread.
struct SendableContext: @unchecked Sendable {
    let pointer: OpaquePointer
}
