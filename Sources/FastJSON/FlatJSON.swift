/// A fast reader for flat JSON objects: the top-level fields with their scalar values.
///
/// Records are decoded on the consumer's hot path (a million at start), where Foundation's
/// JSONDecoder costs several microseconds each. This reads one object in a single pass
/// over the bytes, validates what it reads, and skips nested values. Any syntax error
/// makes the whole value invalid (nil): malformed records are counted, never guessed at.
public enum FlatJSON {
    public enum Value: Equatable, Sendable {
        case string(String)
        case integer(Int64)
        case number(Double)
        case bool(Bool)
        case null
        /// An object or array, skipped (validated, not kept).
        case nested
    }

    /// The fields of the top-level object in `bytes`, or nil when `bytes` is not exactly
    /// one JSON object. When a key repeats, the last value wins.
    public static func parseObject(_ bytes: [UInt8]) -> [String: Value]? {
        whole(bytes) { $0.object() }
    }

    /// The values of the fields `names` of the top-level object in `bytes`, in the order
    /// of `names` (nil where a field is absent), or nil when `bytes` is not exactly one
    /// JSON object. The same answer as looking the names up in ``parseObject(_:)``'s
    /// dictionary, without building it: a post and a record each have a few known
    /// fields, read for every request and every record.
    public static func parseObject(_ bytes: [UInt8], fields names: [StaticString]) -> [Value?]? {
        whole(bytes) { reader in
            var values = [Value?](repeating: nil, count: names.count)
            return reader.object(fields: names, into: &values) ? values : nil
        }
    }

    /// The elements of a top-level array: each object's fields, or nil for an element
    /// that is not an object. Nil when `bytes` is not exactly one valid JSON array.
    public static func parseArrayOfObjects(_ bytes: [UInt8]) -> [[String: Value]?]? {
        whole(bytes) { $0.arrayOfObjects() }
    }

    /// What `read` reads from `bytes`, when it is all of `bytes` but white space.
    private static func whole<T>(_ bytes: [UInt8], _ read: (inout Reader) -> T?) -> T? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer)
            reader.skipWhitespace()
            guard let value = read(&reader), reader.finished() else { return nil }
            return value
        }
    }

    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func arrayOfObjects() -> [[String: Value]?]? {
            guard peek() == UInt8(ascii: "[") else { return nil }
            index += 1
            var elements: [[String: Value]?] = []
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                index += 1
                return elements
            }
            while true {
                skipWhitespace()
                if peek() == UInt8(ascii: "{") {
                    guard let object = object() else { return nil }
                    elements.append(object)
                } else {
                    guard value(depth: 1) != nil else { return nil }
                    elements.append(nil)
                }
                skipWhitespace()
                switch peek() {
                case UInt8(ascii: ","):
                    index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    return elements
                default:
                    return nil
                }
            }
        }

        /// An object starting at `index`, with its scalar fields.
        mutating func object() -> [String: Value]? {
            // Records and posts have 2 to 6 fields: no growth (a reallocation and a
            // rehash each time) for those.
            var fields: [String: Value] = Dictionary(minimumCapacity: 8)
            guard enterObject() else { return nil }
            var first = true
            while let more = nextMember(first: &first) {
                guard more else { return fields }
                guard let key = string(), colon(), let value = value(depth: 0) else { return nil }
                fields[key] = value
            }
            return nil
        }

        /// An object starting at `index`, keeping the values of the fields named in
        /// `names` in `values` (the last one wins when a key repeats). Every other field
        /// is read and validated as ``object()`` reads it, then dropped.
        mutating func object(fields names: [StaticString], into values: inout [Value?]) -> Bool {
            guard enterObject() else { return false }
            var first = true
            while let more = nextMember(first: &first) {
                guard more else { return true }
                guard let field = key(among: names), colon(), let value = value(depth: 0) else { return false }
                if let field { values[field] = value }
            }
            return false
        }

        /// Reads the `{` of an object.
        private mutating func enterObject() -> Bool {
            guard peek() == UInt8(ascii: "{") else { return false }
            index += 1
            return true
        }

        /// Between an object's members: true when the next member's key starts at
        /// `index`, false after the closing `}`, nil on a syntax error (a trailing
        /// comma included).
        private mutating func nextMember(first: inout Bool) -> Bool? {
            skipWhitespace()
            if first {
                first = false
            } else if peek() == UInt8(ascii: ",") {
                index += 1
                skipWhitespace()
                return peek() == UInt8(ascii: "\"") ? true : nil
            } else if peek() != UInt8(ascii: "}") {
                return nil
            }
            if peek() == UInt8(ascii: "}") {
                index += 1
                return false
            }
            return peek() == UInt8(ascii: "\"") ? true : nil
        }

        /// Reads the `:` between a key and its value, with the spaces around it.
        private mutating func colon() -> Bool {
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { return false }
            index += 1
            skipWhitespace()
            return true
        }

        /// Reads a key starting at its opening quote: `.some(position in names)` when it
        /// is one of `names`, `.some(nil)` when it is another valid key, nil when it is
        /// not a valid string. A key without escapes is compared as bytes, with no
        /// `String` made.
        private mutating func key(among names: [StaticString]) -> Int?? {
            let start = index + 1
            let end = plainRun(from: start)
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<end])
                if let position = names.firstIndex(where: { Self.equals(raw, $0) }) {
                    index = end + 1
                    return .some(position)
                }
            }
            // Escaped, invalid, or another key: read as any string, then compared.
            guard let text = string() else { return nil }
            return .some(names.firstIndex { $0.withUTF8Buffer { name in text.utf8.elementsEqual(name) } })
        }

        private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
            name.withUTF8Buffer { name in name.count == bytes.count && name.elementsEqual(bytes) }
        }

        mutating func finished() -> Bool {
            skipWhitespace()
            return index == bytes.count
        }

        private func peek() -> UInt8? {
            index < bytes.count ? bytes[index] : nil
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        private mutating func value(depth: Int) -> Value? {
            guard depth < 64, let byte = peek() else { return nil }
            switch byte {
            case UInt8(ascii: "\""):
                return string().map(Value.string)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                return skipContainer(depth: depth) ? .nested : nil
            case UInt8(ascii: "t"):
                return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"):
                return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"):
                return literal("null") ? .null : nil
            default:
                return number()
            }
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += count
            return true
        }

        private mutating func number() -> Value? {
            let start = index
            if peek() == UInt8(ascii: "-") { index += 1 }
            guard let first = peek(), first >= 0x30, first <= 0x39 else { return nil }
            if first == 0x30 {
                index += 1
            } else {
                while let digit = peek(), digit >= 0x30, digit <= 0x39 { index += 1 }
            }
            var isInteger = true
            if peek() == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                guard let digit = peek(), digit >= 0x30, digit <= 0x39 else { return nil }
                while let digit = peek(), digit >= 0x30, digit <= 0x39 { index += 1 }
            }
            if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
                guard let digit = peek(), digit >= 0x30, digit <= 0x39 else { return nil }
                while let digit = peek(), digit >= 0x30, digit <= 0x39 { index += 1 }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if isInteger, let integer = Int64(text) { return .integer(integer) }
            return Double(text).map(Value.number)
        }

        /// Reads a string starting at its opening quote; validates escapes and UTF-8.
        private mutating func string() -> String? {
            index += 1
            let start = index
            // Fast path: no escapes.
            index = plainRun(from: start)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                return Self.text(slice)
            }
            if bytes[index] < 0x20 { return nil }
            var decoded = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return String(validating: decoded, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    index += 1
                    guard let escaped = peek() else { return nil }
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escaped)
                    case UInt8(ascii: "b"): decoded.append(0x08)
                    case UInt8(ascii: "f"): decoded.append(0x0C)
                    case UInt8(ascii: "n"): decoded.append(0x0A)
                    case UInt8(ascii: "r"): decoded.append(0x0D)
                    case UInt8(ascii: "t"): decoded.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let scalar = unicodeEscape() else { return nil }
                        decoded.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default:
                        return nil
                    }
                default:
                    if byte < 0x20 { return nil }
                    decoded.append(byte)
                    index += 1
                }
            }
            return nil
        }

        /// Where a string's plain run from `start` stops: its closing quote, a backslash, a
        /// control byte (invalid in a string), or the end of the bytes.
        private func plainRun(from start: Int) -> Int {
            var end = start
            while end < bytes.count {
                let byte = bytes[end]
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                end += 1
            }
            return end
        }

        /// Valid UTF-8 as a `String`, else nil. ASCII, the common case, skips the
        /// generic validating initializer (which looks up type metadata on every call).
        private static func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
            var combined: UInt8 = 0
            for byte in bytes { combined |= byte }
            if combined < 0x80 { return String(decoding: bytes, as: UTF8.self) }
            return String(validating: bytes, as: UTF8.self)
        }

        /// After `\u`: four hex digits, combining a surrogate pair when one follows.
        private mutating func unicodeEscape() -> Unicode.Scalar? {
            guard let high = hex4() else { return nil }
            if (0xD800..<0xDC00).contains(high) {
                guard literal("\\u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            }
            return Unicode.Scalar(high)
        }

        private mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
                default: return nil
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }

        /// Skips a whole object or array, validating it.
        private mutating func skipContainer(depth: Int) -> Bool {
            let open = bytes[index]
            let close = open == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            index += 1
            skipWhitespace()
            if peek() == close {
                index += 1
                return true
            }
            while true {
                skipWhitespace()
                if open == UInt8(ascii: "{") {
                    guard peek() == UInt8(ascii: "\""), string() != nil else { return false }
                    skipWhitespace()
                    guard peek() == UInt8(ascii: ":") else { return false }
                    index += 1
                    skipWhitespace()
                }
                guard value(depth: depth + 1) != nil else { return false }
                skipWhitespace()
                switch peek() {
                case UInt8(ascii: ","): index += 1
                case close:
                    index += 1
                    return true
                default:
                    return false
                }
            }
        }
    }
}
