public import Foundation

/// Writes JSON text straight into bytes, for the shapes on hot paths: the answer to every
/// post, every record produced, the live feed's frame every 20 ms, every error. There
/// `JSONEncoder` costs microseconds per value, mostly in reflection.
///
/// The output is byte for byte what ``encoder`` (the one encoder of the package: sorted
/// snake_case keys, slashes unescaped) writes for the same value, as long as the caller
/// writes an object's keys in sorted order; a test holds each shape to that. Commas are
/// placed by the writer.
public struct JSONWriter {
    /// The text so far.
    public private(set) var bytes: [UInt8] = []
    /// A value was written at this level, so the next one needs a comma first.
    private var needsComma = false

    /// The package's encoder for every value off the hot paths. Keys are the properties'
    /// names in snake_case (`userID` → `user_id`), so response types declare `CodingKeys`
    /// only for a key that is not (`seq`); string keys of dictionaries (user ids, team
    /// names) are left as they are. Thread-safe for encoding.
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()

    public init(capacity: Int = 128) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    /// An object's key; its value follows.
    public mutating func key(_ name: String) {
        separate()
        Self.appendString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ text: String) {
        separate()
        Self.appendString(text, to: &bytes)
        needsComma = true
    }

    public mutating func integer(_ number: some BinaryInteger) {
        separate()
        if let value = Int64(exactly: number) {
            Self.appendDecimal(value, to: &bytes)
        } else {
            bytes.append(contentsOf: String(number).utf8)
        }
        needsComma = true
    }

    /// `value` in decimal, written in place: no `String` per number (every answer to a
    /// post and every record carries three).
    static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    public mutating func bool(_ flag: Bool) {
        separate()
        bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    /// `"name": text`.
    public mutating func field(_ name: String, _ text: String) {
        key(name)
        string(text)
    }

    /// `"name": number`.
    public mutating func field(_ name: String, _ number: some BinaryInteger) {
        key(name)
        integer(number)
    }

    /// A flat value as ``FlatJSON`` reads it: strings, integers and booleans as they are,
    /// anything else `null`.
    public mutating func value(_ value: FlatJSON.Value) {
        switch value {
        case .string(let text): string(text)
        case .integer(let number): integer(number)
        case .bool(let flag): bool(flag)
        default: null()
        }
    }

    /// A flat JSON object with `fields` in the order given (sort them to match
    /// ``encoder``).
    public static func object(_ fields: [(String, FlatJSON.Value)]) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        for (name, value) in fields {
            writer.key(name)
            writer.value(value)
        }
        writer.endObject()
        return writer.bytes
    }

    /// Appends `string` as a JSON string literal, escaped as ``encoder`` escapes it.
    /// Runs of bytes that need no escape are copied whole: most strings are one run.
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var runStart = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                appendEscape(byte, to: &out)
                runStart = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
        case 0x08: out.append(UInt8(ascii: "b"))
        case 0x0C: out.append(UInt8(ascii: "f"))
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        default:
            let hex = { (nibble: UInt8) in nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10 }
            out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex(byte >> 4), hex(byte & 0xF)])
        }
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func open(_ bracket: UInt8) {
        separate()
        bytes.append(bracket)
        needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        bytes.append(bracket)
        needsComma = true
    }
}
