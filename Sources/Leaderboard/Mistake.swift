/// Why an `actions` record did not score, in the order the checks run.
public enum Mistake: String, Sendable, Codable, CaseIterable, CodingKeyRepresentable {
    case parseError = "parse_error"
    case missingFields = "missing_fields"
    case unknownTeam = "unknown_team"
    case duplicate
    case ghostUser = "ghost_user"
    case falsePositive = "false_positive"
    case wrongTypeOrReason = "wrong_type_or_reason"

    /// The achievement shown the first time a team makes this mistake, if any.
    var achievement: Achievement? {
        switch self {
        case .parseError: .parseError
        case .missingFields: .missingFields
        case .duplicate: .duplicate
        case .ghostUser: .ghostUser
        case .falsePositive: .falsePositive
        case .wrongTypeOrReason: .wrongTypeOrReason
        case .unknownTeam: nil
        }
    }
}

/// How a keyed record (`team_stats`, `watchlist`) was keyed.
public enum KeyCheck: String, Sendable, Codable {
    case correct
    case missing
    case wrong
}
