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
        guard let userValue = object["user_id"] else {
            throw FieldError(code: "invalid_field", message: "user_id is required")
        }
        guard let userID = userValue as? String else {
            throw FieldError(code: "invalid_field", message: "user_id must be a string")
        }
        guard !userID.isEmpty, userID.count <= maxUserIDLength else {
            throw FieldError(code: "invalid_field", message: "user_id must be 1 to \(maxUserIDLength) characters")
        }
        guard userID.unicodeScalars.allSatisfy(isUserIDCharacter) else {
            throw FieldError(code: "invalid_field", message: "user_id may contain only letters, digits and _ . @ -")
        }
        guard let contentValue = object["content"] else {
            throw FieldError(code: "invalid_field", message: "content is required")
        }
        guard let content = contentValue as? String else {
            throw FieldError(code: "invalid_field", message: "content must be a string")
        }
        guard !content.isEmpty, content.count <= maxContentLength else {
            throw FieldError(code: "invalid_field", message: "content must be 1 to \(maxContentLength) characters")
        }
        return PostMessage(userID: userID, content: content)
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
