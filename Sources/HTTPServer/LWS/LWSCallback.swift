internal import CLibWebSockets
import Logging
import Synchronization

/// The protocol callback for every HTTP and WebSocket event. Runs on the service thread.
/// Reaches the ``ServiceLoop`` through the context's user pointer; events for protocols
/// and vhosts without state (spurious `EVENT_WAIT_CANCELLED`s) fall through to lws's
/// default handling.
let lwsCallback: @convention(c) (OpaquePointer?, lws_callback_reasons, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int) -> Int32 = { wsi, reason, user, input, length in
    guard let wsi, let context = lws_get_context(wsi), let opaque = lws_context_user(context) else {
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
    let loop = Unmanaged<ServiceLoop>.fromOpaque(opaque).takeUnretainedValue()
    let session = user?.assumingMemoryBound(to: SessionData.self)

    switch reason {
    case LWS_CALLBACK_HTTP:
        guard let session, let input else { return -1 }
        let path = String(cString: input.assumingMemoryBound(to: CChar.self))
        return loop.beginRequest(wsi: wsi, session: session, path: path)
    case LWS_CALLBACK_HTTP_BODY:
        guard let session else { return -1 }
        return loop.appendBody(wsi: wsi, session: session, bytes: UnsafeRawBufferPointer(start: input, count: input == nil ? 0 : length))
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        guard let session else { return -1 }
        return loop.completeBody(session: session)
    case LWS_CALLBACK_HTTP_WRITEABLE:
        guard let session else { return -1 }
        return loop.writeResponse(wsi: wsi, session: session)
    case LWS_CALLBACK_CLOSED_HTTP, LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        loop.forgetRequest(session: session)
        return 0
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return loop.acceptsWebSocket(wsi: wsi) ? 0 : -1
    case LWS_CALLBACK_ESTABLISHED:
        guard let session else { return -1 }
        loop.webSocketOpened(wsi: wsi, session: session)
        return 0
    case LWS_CALLBACK_RECEIVE:
        guard let session else { return -1 }
        return loop.webSocketReceived(wsi: wsi, session: session, bytes: UnsafeRawBufferPointer(start: input, count: input == nil ? 0 : length))
    case LWS_CALLBACK_SERVER_WRITEABLE:
        guard let session else { return -1 }
        return loop.webSocketWritable(wsi: wsi, session: session)
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        loop.webSocketPeerClosing(session: session)
        return 0
    case LWS_CALLBACK_CLOSED:
        loop.webSocketClosed(session: session)
        return 0
    case LWS_CALLBACK_WSI_DESTROY:
        // Always delivered, session memory intact, even where a protocol error closed
        // a WebSocket without LWS_CALLBACK_CLOSED (a fragmented ping, RSV bits): the
        // last chance to forget a connection before its wsi pointer dangles.
        loop.forgetRequest(session: session)
        loop.webSocketClosed(session: session)
        loop.connectionDestroyed(wsi: wsi)
        return 0
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        loop.drainCommands(inCallbackOf: nil)
        return 0
    default:
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
}

/// libwebsockets' own log lines, routed to swift-log. lws's logger takes no context, so
/// the logger lives here, set once per process by the first server.
let lwsLogger = Mutex<Logger?>(nil)

let lwsLogCallback: @convention(c) (Int32, UnsafePointer<CChar>?) -> Void = { level, line in
    guard let line, let logger = lwsLogger.withLock({ $0 }) else { return }
    let text = String(cString: line).trimmingCharacters(in: .whitespacesAndNewlines)
    logger.log(level: level & LLL_ERR != 0 ? .error : .warning, "libwebsockets", metadata: ["lws.message": .string(text)])
}
