import FastJSON
import HTTPServer
import Leaderboard
import Timeline

/// The body of `GET` and `POST /api/admin/simulator`.
struct SimulatorStatus: Encodable, Sendable {
    var teams: [SimulatedTeam]
    /// The most teams the workshop has.
    var maximum: Int
    /// The size asked for while the change runs (null when none runs).
    var resizingTo: Int?
    /// Why the last change failed, if it did.
    var lastError: String?

    enum CodingKeys: String, CodingKey {
        case teams, maximum
        case resizingTo = "resizing_to"
        case lastError = "last_error"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(teams, forKey: .teams)
        try container.encode(maximum, forKey: .maximum)
        try container.encode(resizingTo, forKey: .resizingTo)
        try container.encode(lastError, forKey: .lastError)
    }
}

/// One simulated team as the instructor sees it.
struct SimulatedTeam: Encodable, Sendable {
    var team: String
    var profile: String
    var instances: Int
    var processed: Int64
    var flagged: Int64
}
