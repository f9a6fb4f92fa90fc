import Foundation

/// The board's changelog, as Kafka Streams keeps one: every few seconds (and soon after
/// an unlock) the board is written to the compacted topic `leaderboard_state`, one record
/// per team (key = team) and a `_board` record (key ``boardKey``) with the rest and the
/// input offsets the round covers, written last. On start the latest complete round is
/// loaded and the inputs are read from those offsets.
///
/// The format and the round selection live here, apart from Kafka, so that both are
/// tested on plain records.
public enum BoardChangelog {
    /// The key of the record that closes a round.
    public static let boardKey = "_board"

    /// One record of `leaderboard_state`: a team's standing, or (under ``boardKey``)
    /// the rest of the board with the offsets its round covers.
    public struct Record: Codable, Sendable {
        public var round: Int64
        public var team: TeamState?
        public var offsets: [Offset]?
        public var held: [HeldAction]?
        public var unknownTeamActions: Int?
        public var latestTeamStats: [String: LeaderboardState.KeyedValue]?
        public var latestWatchlist: [String: LeaderboardState.KeyedValue]?
        public var sessionStartedAt: Int64?

        public init(round: Int64, team: TeamState? = nil) {
            self.round = round
            self.team = team
        }

        enum CodingKeys: String, CodingKey {
            case round, team, offsets, held
            case unknownTeamActions = "unknown_team_actions"
            case latestTeamStats = "latest_team_stats"
            case latestWatchlist = "latest_watchlist"
            case sessionStartedAt = "session_started_at"
        }
    }

    /// Where reading an input partition continues.
    public struct Offset: Codable, Sendable, Hashable {
        public var topic: String
        public var partition: Int32
        /// The next offset to read.
        public var offset: Int64

        public init(topic: String, partition: Int32, offset: Int64) {
            self.topic = topic
            self.partition = partition
            self.offset = offset
        }
    }

    /// An action that was waiting for its user when the round was written.
    public struct HeldAction: Codable, Sendable {
        public var value: String
        public var time: Int64
    }

    /// A round as loaded.
    public struct Restored: Sendable {
        public var board: BoardSnapshot
        /// When the round was written (ms): rounds are numbered by their time.
        public var round: Int64
        public var offsets: [Offset]
        public var held: [(value: [UInt8], time: Int64)]
    }

    /// What the latest records of the topic hold.
    public enum Loaded: Sendable {
        /// No round was ever closed.
        case none
        case restored(Restored)
        /// A round that cannot be the board's (forged or corrupt): rebuild from the
        /// topics rather than trust it.
        case rejected(reason: String, round: Int64)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The records of one round: a record per team, then the `_board` record that
    /// closes it.
    public static func records(
        round: Int64, board: BoardSnapshot, offsets: [Offset], held: [(value: [UInt8], time: Int64)]
    ) -> [(key: String, value: [UInt8])] {
        var records: [(key: String, value: [UInt8])] = board.teams.sorted { $0.key < $1.key }.map { team, state in
            (team, encode(Record(round: round, team: state)))
        }
        var closing = Record(round: round)
        closing.offsets = offsets.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        closing.held = held.map { HeldAction(value: String(decoding: $0.value, as: UTF8.self), time: $0.time) }
        closing.unknownTeamActions = board.unknownTeamActions
        closing.latestTeamStats = board.latestTeamStats
        closing.latestWatchlist = board.latestWatchlist
        closing.sessionStartedAt = board.sessionStartedAt
        records.append((boardKey, encode(closing)))
        return records
    }

    /// A record's value, or nil when it is not one of ours.
    public static func decode(_ value: [UInt8]) -> Record? {
        try? JSONDecoder().decode(Record.self, from: Data(value))
    }

    /// The latest complete round from the latest record under each key: the round the
    /// `_board` record closes, with the team records of that same round (a team record
    /// of another round belongs to a round cut short and is skipped).
    /// - Parameter now: the current time (ms), for the snapshot's validation.
    public static func latest(_ records: [String: Record], now: Int64) -> Loaded {
        guard let closing = records[boardKey], let offsets = closing.offsets else { return .none }
        var teams: [String: TeamState] = [:]
        for (key, record) in records where key != boardKey {
            guard record.round == closing.round, let team = record.team else { continue }
            teams[key] = team
        }
        let board = BoardSnapshot(
            teams: teams, unknownTeamActions: closing.unknownTeamActions ?? 0,
            latestTeamStats: closing.latestTeamStats ?? [:], latestWatchlist: closing.latestWatchlist ?? [:],
            sessionStartedAt: closing.sessionStartedAt
        )
        if let problem = board.validationError(now: now) {
            return .rejected(reason: problem, round: closing.round)
        }
        let held = (closing.held ?? []).map { (value: Array($0.value.utf8), time: $0.time) }
        return .restored(Restored(board: board, round: closing.round, offsets: offsets, held: held))
    }

    private static func encode(_ record: Record) -> [UInt8] {
        (try? Array(encoder.encode(record))) ?? []
    }
}
