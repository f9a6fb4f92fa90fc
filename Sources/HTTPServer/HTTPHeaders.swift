/// The request headers the server reads. Fields rather than a dictionary: they are filled
/// in for every request and read a few times each, and a dictionary cost an allocation
/// and a hash of the name for every one of those steps.
public struct HTTPHeaders: Sendable, Equatable {
    public var contentType: String?
    public var contentLength: String?
    public var authorization: String?

    public init(contentType: String? = nil, contentLength: String? = nil, authorization: String? = nil) {
        self.contentType = contentType
        self.contentLength = contentLength
        self.authorization = authorization
    }
}
