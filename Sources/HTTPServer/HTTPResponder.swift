/// The way back to the client for one request. Sendable: keep it, answer from any
/// thread. Only the first answer counts; an answer after the server's deadline (504
/// already sent) or after the client left is dropped.
public struct HTTPResponder: Sendable {
    let requestID: UInt64
    let core: ServerCore

    public func respond(_ response: HTTPResponse) {
        core.post(.respond(requestID, response))
    }

    public func respond(_ error: HTTPError) {
        respond(error.response)
    }
}
