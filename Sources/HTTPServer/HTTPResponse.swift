import FastJSON
import Foundation

/// A complete HTTP response: status, content type, extra headers and body, written to
/// the socket in one piece.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    /// Extra headers, names in lower case.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, contentType: String = "application/json", headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    /// A JSON response from an `Encodable` value, keys sorted so output is stable.
    public static func json(_ value: some Encodable, status: Int = 200) -> HTTPResponse {
        do {
            return HTTPResponse(status: status, body: Array(try JSONWriter.encoder.encode(value)))
        } catch {
            return HTTPError(status: 500, code: "encoding_failed", message: "the response could not be encoded").response
        }
    }

    public static func == (lhs: HTTPResponse, rhs: HTTPResponse) -> Bool {
        lhs.status == rhs.status && lhs.contentType == rhs.contentType && lhs.body == rhs.body
            && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}

