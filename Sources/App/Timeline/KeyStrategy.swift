/// How a post's Kafka key is chosen: the lesson of the exercise.
enum KeyStrategy: String, Sendable, Codable, CaseIterable {
    /// key = user_id: one user's posts stay in one partition, in order.
    case user
    /// No key: posts spread over partitions; one user's order is lost.
    case none
    /// A random key per post: spread over partitions, order lost as well.
    case random

    func key(for userID: String) -> [UInt8]? {
        switch self {
        case .user: Array(userID.utf8)
        case .none: nil
        case .random: Array("\(userID)-\(UInt64.random(in: 0...UInt64.max))".utf8)
        }
    }
}
