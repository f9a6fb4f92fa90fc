import Foundation

/// Writes command results to standard output as one line of JSON with sorted keys (or
/// pretty-printed), so scripts can read them.
enum JSONOutput {
    static func write(_ value: some Encodable, pretty: Bool = false) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys]
        // `write(contentsOf:)` throws where `write(_:)` traps: a reader that went away
        // (a closed pipe) ends the command with an error, not a crash.
        try FileHandle.standardOutput.write(contentsOf: try encoder.encode(value) + Data("\n".utf8))
    }
}
