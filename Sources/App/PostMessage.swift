import Foundation

/// The body of `POST /api/send-message`, validated.
struct PostMessage: Sendable, Equatable {
    var userID: String
    var content: String

    static let maxUserIDLength = 64
    static let maxContentLength = 2000

    /// Parses and validates a request body.
    /// - Throws: ``FieldError`` naming the field and what is wrong with it.
    static func parse(_ body: [UInt8]) throws(FieldError) -> PostMessage {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw FieldError(code: "invalid_json", message: "the body must be a JSON object")
            }
            object = parsed
        } catch let error as FieldError {
            throw error
        } catch {
            throw FieldError(code: "invalid_json", message: "the body is not valid JSON")
        }
        let userID = try requiredString("user_id", in: object, maxLength: maxUserIDLength)
        guard userID.unicodeScalars.allSatisfy(isUserIDCharacter) else {
            throw FieldError(code: "invalid_field", message: "user_id may contain only letters, digits and _ . @ -")
        }
        let content = try requiredString("content", in: object, maxLength: maxContentLength)
        return PostMessage(userID: userID, content: content)
    }

    /// A string field of 1 to `maxLength` characters.
    private static func requiredString(_ name: String, in object: [String: Any], maxLength: Int) throws(FieldError) -> String {
        guard let value = object[name] else {
            throw FieldError(code: "invalid_field", message: "\(name) is required")
        }
        guard let string = value as? String else {
            throw FieldError(code: "invalid_field", message: "\(name) must be a string")
        }
        guard !string.isEmpty, string.count <= maxLength else {
            throw FieldError(code: "invalid_field", message: "\(name) must be 1 to \(maxLength) characters")
        }
        return string
    }

    private static func isUserIDCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "@", "-": true
        default: false
        }
    }
}

/// A request body that does not say what the API needs (400).
struct FieldError: Error, Equatable {
    var code: String
    var message: String
}
