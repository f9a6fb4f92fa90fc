import FastJSON
import Foundation

/// The app's JSON: the package's one encoder (sorted keys, so output is stable) and a
/// decoder.
enum JSONCoding {
    static var encoder: JSONEncoder { JSONWriter.encoder }

    static let decoder = JSONDecoder()

    static func string(_ value: some Encodable) -> String {
        (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
