@_exported import LoadTest

/// Tests reach the server with the load generator's blocking client.
public typealias TestHTTPClient = HTTPConnection
public typealias TestResponse = HTTPClientResponse
public typealias TestSocket = BlockingSocket
public typealias TestClientError = HTTPClientError
public typealias TestWebSocket = WebSocketConnection
