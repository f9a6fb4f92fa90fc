import Foundation

/// Writes command results to standard output as one line of JSON with sorted keys (or
/// pretty-printed), so scripts can read them.
enum JSONOutput {
    static func write(_ value: some Encodable, pretty: Bool = false) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys]
        FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
    }
}
