/// A test on a `new_users` record, as a team's rule says it: field comparisons combined
/// with `all` / `any`. Written in the workshop file as JSON, e.g.
/// `{"field": "email", "contains": ["hotmail"]}` or
/// `{"all": [{"field": "premium", "is": true}, {"field": "credit", "greater_than": 10}]}`.
public indirect enum Condition: Sendable, Equatable {
    /// The text field contains any of the values.
    case contains(field: String, values: [String])
    /// The text field starts with any of the values.
    case startsWith(field: String, values: [String])
    /// The text field starts with none of the values (a missing field counts as not
    /// starting with them).
    case notStartsWith(field: String, values: [String])
    /// The text field equals any of the values.
    case equals(field: String, values: [String])
    /// The boolean field has this value.
    case isBool(field: String, value: Bool)
    case greaterThan(field: String, value: Double)
    case lessThan(field: String, value: Double)
    case all([Condition])
    case any([Condition])

    /// Whether `user` matches. Text comparisons on `caseInsensitive` fields compare
    /// lower-cased text, as the tutorial's student code does.
    public func matches(_ user: NewUser, caseInsensitive: Set<String>) -> Bool {
        switch self {
        case .contains(let field, let values):
            guard let text = user.text(field, lowercased: caseInsensitive.contains(field)) else { return false }
            // On the UTF-8 bytes: Foundation's `String.contains` bridges to NSString and
            // was the board's hottest path in a rebuild.
            return values.contains { Self.bytes(of: text, contain: normalize($0, field, caseInsensitive)) }
        case .startsWith(let field, let values):
            guard let text = user.text(field, lowercased: caseInsensitive.contains(field)) else { return false }
            return values.contains { text.hasPrefix(normalize($0, field, caseInsensitive)) }
        case .notStartsWith(let field, let values):
            guard let text = user.text(field, lowercased: caseInsensitive.contains(field)) else { return true }
            return !values.contains { text.hasPrefix(normalize($0, field, caseInsensitive)) }
        case .equals(let field, let values):
            guard let text = user.text(field, lowercased: caseInsensitive.contains(field)) else { return false }
            return values.contains { text == normalize($0, field, caseInsensitive) }
        case .isBool(let field, let value):
            return user.bool(field) == value
        case .greaterThan(let field, let value):
            guard let number = user.number(field) else { return false }
            return number > value
        case .lessThan(let field, let value):
            guard let number = user.number(field) else { return false }
            return number < value
        case .all(let conditions):
            return conditions.allSatisfy { $0.matches(user, caseInsensitive: caseInsensitive) }
        case .any(let conditions):
            return conditions.contains { $0.matches(user, caseInsensitive: caseInsensitive) }
        }
    }

    /// Whether `needle`'s UTF-8 bytes occur in `haystack`'s (a plain scan: the rules'
    /// values are a few bytes, the fields a few dozen).
    static func bytes(of haystack: String, contain needle: String) -> Bool {
        var haystack = haystack
        var needle = needle
        return haystack.withUTF8 { text in
            needle.withUTF8 { pattern in
                guard !pattern.isEmpty else { return true }
                guard pattern.count <= text.count else { return false }
                let first = pattern[0]
                for start in 0...(text.count - pattern.count) where text[start] == first {
                    var index = 1
                    while index < pattern.count, text[start + index] == pattern[index] { index += 1 }
                    if index == pattern.count { return true }
                }
                return false
            }
        }
    }

    private func normalize(_ value: String, _ field: String, _ caseInsensitive: Set<String>) -> String {
        caseInsensitive.contains(field) ? value.lowercased() : value
    }
}

extension Condition: Codable {
    private enum Keys: String, CodingKey {
        case field, contains, all, any, `is`, equals
        case startsWith = "starts_with"
        case notStartsWith = "not_starts_with"
        case greaterThan = "greater_than"
        case lessThan = "less_than"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        if let all = try container.decodeIfPresent([Condition].self, forKey: .all) {
            self = .all(all)
            return
        }
        if let any = try container.decodeIfPresent([Condition].self, forKey: .any) {
            self = .any(any)
            return
        }
        let field = try container.decode(String.self, forKey: .field)
        if let values = try container.decodeIfPresent([String].self, forKey: .contains) {
            self = .contains(field: field, values: values)
        } else if let values = try container.decodeIfPresent([String].self, forKey: .startsWith) {
            self = .startsWith(field: field, values: values)
        } else if let values = try container.decodeIfPresent([String].self, forKey: .notStartsWith) {
            self = .notStartsWith(field: field, values: values)
        } else if let values = try container.decodeIfPresent([String].self, forKey: .equals) {
            self = .equals(field: field, values: values)
        } else if let value = try container.decodeIfPresent(Bool.self, forKey: .is) {
            self = .isBool(field: field, value: value)
        } else if let value = try container.decodeIfPresent(Double.self, forKey: .greaterThan) {
            self = .greaterThan(field: field, value: value)
        } else if let value = try container.decodeIfPresent(Double.self, forKey: .lessThan) {
            self = .lessThan(field: field, value: value)
        } else {
            throw DecodingError.dataCorruptedError(
                forKey: .field, in: container,
                debugDescription: "a condition needs one of contains, starts_with, not_starts_with, equals, is, greater_than, less_than, all, any"
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        switch self {
        case .contains(let field, let values):
            try container.encode(field, forKey: .field)
            try container.encode(values, forKey: .contains)
        case .startsWith(let field, let values):
            try container.encode(field, forKey: .field)
            try container.encode(values, forKey: .startsWith)
        case .notStartsWith(let field, let values):
            try container.encode(field, forKey: .field)
            try container.encode(values, forKey: .notStartsWith)
        case .equals(let field, let values):
            try container.encode(field, forKey: .field)
            try container.encode(values, forKey: .equals)
        case .isBool(let field, let value):
            try container.encode(field, forKey: .field)
            try container.encode(value, forKey: .is)
        case .greaterThan(let field, let value):
            try container.encode(field, forKey: .field)
            try container.encode(value, forKey: .greaterThan)
        case .lessThan(let field, let value):
            try container.encode(field, forKey: .field)
            try container.encode(value, forKey: .lessThan)
        case .all(let conditions):
            try container.encode(conditions, forKey: .all)
        case .any(let conditions):
            try container.encode(conditions, forKey: .any)
        }
    }
}
