import FastJSON
import Timeline

/// The body of `POST /api/send-message`, validated.
struct PostMessage: Sendable, Equatable {
    var userID: String
    var content: String
    var keyStrategy: KeyStrategy = .user

    static let maxUserIDLength = PostRecord.maxUserIDLength
    static let maxContentLength = PostRecord.maxContentLength

    /// Parses and validates a request body.
    /// - Throws: ``FieldError`` naming the field and what is wrong with it.
    static func parse(_ body: [UInt8]) throws(FieldError) -> PostMessage {
        guard let values = FlatJSON.parseObject(body, fields: ["user_id", "content", "key_strategy"]) else {
            throw FieldError(code: "invalid_json", message: "the body must be one valid JSON object")
        }
        return try validate(userID: values[0], content: values[1], keyStrategy: values[2])
    }

    /// Validates one post given as a JSON object's fields.
    static func parse(fields: [String: FlatJSON.Value]) throws(FieldError) -> PostMessage {
        try validate(userID: fields["user_id"], content: fields["content"], keyStrategy: fields["key_strategy"])
    }

    private static func validate(userID: FlatJSON.Value?, content: FlatJSON.Value?, keyStrategy: FlatJSON.Value?) throws(FieldError) -> PostMessage {
        let userID = try requiredString("user_id", userID, maxLength: maxUserIDLength)
        guard PostRecord.isValidUserID(userID) else {
            throw FieldError(code: "invalid_field", message: "user_id may contain only letters, digits and _ . @ -")
        }
        let content = try requiredString("content", content, maxLength: maxContentLength)
        var strategy = KeyStrategy.user
        if let keyStrategy {
            guard case .string(let name) = keyStrategy, let parsed = KeyStrategy(rawValue: name) else {
                throw FieldError(code: "invalid_field", message: "key_strategy must be one of user, none, random")
            }
            strategy = parsed
        }
        return PostMessage(userID: userID, content: content, keyStrategy: strategy)
    }

    /// A string field of 1 to `maxLength` Unicode code points (what JSON Schema's
    /// `maxLength` counts; grapheme clusters would let one "character" be kilobytes).
    private static func requiredString(_ name: String, _ value: FlatJSON.Value?, maxLength: Int) throws(FieldError) -> String {
        guard let value else {
            throw FieldError(code: "invalid_field", message: "\(name) is required")
        }
        guard case .string(let string) = value else {
            throw FieldError(code: "invalid_field", message: "\(name) must be a string")
        }
        guard !string.isEmpty, PostRecord.fits(string, maxLength: maxLength) else {
            throw FieldError(code: "invalid_field", message: "\(name) must be 1 to \(maxLength) characters")
        }
        return string
    }
}

/// A request body that does not say what the API needs (400).
struct FieldError: Error, Equatable {
    var code: String
    var message: String
}
