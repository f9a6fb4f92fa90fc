import Foundation
public import Leaderboard

/// Each team's Kafka user and password on a secured cluster, from the file
/// `docker/scram-users.sh` writes (`teams.csv`: `team,username,password`), so the join
/// page can put a team's password into its program when the instructor's token allows.
public struct TeamCredentials: Sendable, Equatable, Encodable {
    public struct Entry: Sendable, Equatable, Encodable {
        public var team: String
        public var username: String
        public var password: String
    }

    /// Why a credentials file was refused, with its line.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String

        public var description: String { "line \(line): \(message)" }
    }

    public var entries: [Entry]

    static let header = "team,username,password"

    /// Parses the file's text: the header, then one `team,username,password` per line for
    /// teams of the workshop, each once. Passwords may not contain commas (the script's
    /// are letters and digits).
    public static func parse(_ text: String, teams: Set<String>) throws(ParseError) -> TeamCredentials {
        var entries: [Entry] = []
        var seen: Set<String> = []
        var sawHeader = false
        // "\r\n" is one Character in Swift: split on newlines, not on "\n".
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if line.allSatisfy(\.isWhitespace) { continue }
            guard sawHeader else {
                guard line == header else { throw ParseError(line: index + 1, message: "expected the header \(header)") }
                sawHeader = true
                continue
            }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3, fields.allSatisfy({ !$0.isEmpty }) else {
                throw ParseError(line: index + 1, message: "expected team,username,password with none empty")
            }
            guard teams.contains(fields[0]) else { throw ParseError(line: index + 1, message: "\(fields[0]) is not a team of the workshop") }
            guard seen.insert(fields[0]).inserted else { throw ParseError(line: index + 1, message: "\(fields[0]) is listed twice") }
            entries.append(Entry(team: fields[0], username: fields[1], password: fields[2]))
        }
        guard sawHeader else { throw ParseError(line: 1, message: "empty file: expected the header \(header)") }
        return TeamCredentials(entries: entries)
    }

    /// Reads and parses `path`.
    public static func load(contentsOf path: String, workshop: Workshop) throws(ParseError) -> TeamCredentials {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ParseError(line: 0, message: "cannot read \(path)")
        }
        return try parse(String(decoding: data, as: UTF8.self), teams: Set(workshop.teams.map(\.name)))
    }
}
