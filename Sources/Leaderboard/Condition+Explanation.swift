extension Condition {
    /// The rule in words, written from the rule itself: a description typed beside a rule
    /// drifts from it ("industry is banking, finance…" for a rule that is "industry
    /// contains bank or financ"), and a student comparing their code with the board must
    /// read what is actually checked.
    public var explanation: String {
        switch self {
        case .contains(let field, let values): "\(field) contains \(Self.alternatives(values))"
        case .startsWith(let field, let values): "\(field) starts with \(Self.alternatives(values))"
        case .notStartsWith(let field, let values): "\(field) does not start with \(Self.alternatives(values))"
        case .equals(let field, let values): "\(field) is \(Self.alternatives(values))"
        case .isBool(let field, let value): "\(field) is \(value)"
        case .greaterThan(let field, let value): "\(field) above \(Self.number(value))"
        case .lessThan(let field, let value): "\(field) below \(Self.number(value))"
        case .all(let conditions): conditions.map(\.nestedExplanation).joined(separator: " and ")
        case .any(let conditions): conditions.map(\.nestedExplanation).joined(separator: " or ")
        }
    }

    /// In parentheses when it combines others, so `all` inside `any` reads unambiguously.
    private var nestedExplanation: String {
        switch self {
        case .all(let conditions) where conditions.count > 1, .any(let conditions) where conditions.count > 1: "(\(explanation))"
        default: explanation
        }
    }

    private static func alternatives(_ values: [String]) -> String {
        values.isEmpty ? "nothing" : values.map { "\"\($0)\"" }.joined(separator: " or ")
    }

    private static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
