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
        guard let fields = FlatJSON.parseObject(body) else {
            throw FieldError(code: "invalid_json", message: "the body must be one valid JSON object")
        }
        return try parse(fields: fields)
    }

    /// Validates one post given as a JSON object's fields.
    static func parse(fields: [String: FlatJSON.Value]) throws(FieldError) -> PostMessage {
        let userID = try requiredString("user_id", in: fields, maxLength: maxUserIDLength)
        guard PostRecord.isValidUserID(userID) else {
            throw FieldError(code: "invalid_field", message: "user_id may contain only letters, digits and _ . @ -")
        }
        let content = try requiredString("content", in: fields, maxLength: maxContentLength)
        var strategy = KeyStrategy.user
        if let value = fields["key_strategy"] {
            guard case .string(let name) = value, let parsed = KeyStrategy(rawValue: name) else {
                throw FieldError(code: "invalid_field", message: "key_strategy must be one of user, none, random")
            }
            strategy = parsed
        }
        return PostMessage(userID: userID, content: content, keyStrategy: strategy)
    }

    /// A string field of 1 to `maxLength` Unicode code points (what JSON Schema's
    /// `maxLength` counts; grapheme clusters would let one "character" be kilobytes).
    private static func requiredString(_ name: String, in fields: [String: FlatJSON.Value], maxLength: Int) throws(FieldError) -> String {
        guard let value = fields[name] else {
            throw FieldError(code: "invalid_field", message: "\(name) is required")
        }
        guard case .string(let string) = value else {
            throw FieldError(code: "invalid_field", message: "\(name) must be a string")
        }
        guard !string.isEmpty, string.unicodeScalars.count <= maxLength else {
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
