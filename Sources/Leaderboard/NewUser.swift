public import FastJSON

/// A record of `new_users`: the fake users the teams filter. Kept as its fields, so a
/// workshop file can write rules on any of them.
public struct NewUser: Sendable, Equatable {
    public var fields: [String: FlatJSON.Value]

    public init(fields: [String: FlatJSON.Value]) {
        self.fields = fields
    }

    /// The `email` field: how actions name their customer.
    public var email: String? { text("email", lowercased: false) }

    /// Decodes a record value; nil when it is not a JSON object with an email.
    public static func decode(_ value: [UInt8]) -> NewUser? {
        guard let fields = FlatJSON.parseObject(value) else { return nil }
        let user = NewUser(fields: fields)
        guard let email = user.email, !email.isEmpty else { return nil }
        return user
    }

    func text(_ field: String, lowercased: Bool) -> String? {
        guard case .string(let text) = fields[field] else { return nil }
        return lowercased ? text.lowercased() : text
    }

    func bool(_ field: String) -> Bool? {
        guard case .bool(let value) = fields[field] else { return nil }
        return value
    }

    func number(_ field: String) -> Double? {
        switch fields[field] {
        case .integer(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }
}
