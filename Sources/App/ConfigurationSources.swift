import Foundation

/// Where `serve`'s settings come from, and in which order they win: a flag over an
/// environment variable over the `--config` file. Each source becomes command-line
/// arguments, file first and flags last, so one parser checks every value whatever its
/// source and the last one given wins.
public enum ConfigurationSources {
    /// Environment variables for the settings an operator sets per deployment, and the
    /// flag (or librdkafka property of `--kafka-config`) each stands for.
    public static let environment: [(variable: String, flag: String, property: String?)] = [
        ("KAFKA_BOOTSTRAP_SERVERS", "--bootstrap-servers", nil),
        ("STREAMSOCIAL_ADMIN_TOKEN", "--admin-token", nil),
        ("KAFKA_SECURITY_PROTOCOL", "--kafka-config", "security.protocol"),
        ("KAFKA_SASL_MECHANISM", "--kafka-config", "sasl.mechanism"),
        ("KAFKA_SASL_USERNAME", "--kafka-config", "sasl.username"),
        ("KAFKA_SASL_PASSWORD", "--kafka-config", "sasl.password"),
        ("KAFKA_SSL_CA_LOCATION", "--kafka-config", "ssl.ca.location"),
    ]

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unreadable(String)
        case invalid(String, String)

        public var description: String {
            switch self {
            case .unreadable(let path): "cannot read the config file \(path)"
            case .invalid(let path, let reason): "\(path) is not a valid config file: \(reason)"
            }
        }
    }

    /// `serve`'s arguments with the config file's settings and the environment's put
    /// before the ones given: `arguments` are what follows `serve` on the command line.
    /// - Parameter readFile: the file's bytes (tests pass their own; by default, the disk).
    /// - Throws: ``Failure`` when `--config` names a file that cannot be read or is not
    ///   a JSON object of flag names to values.
    public static func arguments(
        _ arguments: [String], environment: [String: String], readFile: ((String) -> [UInt8]?)? = nil
    ) throws(Failure) -> [String] {
        var fromFile: [String] = []
        if let path = configPath(in: arguments) {
            let bytes = readFile.map { $0(path) } ?? FileManager.default.contents(atPath: path).map { Array($0) }
            guard let bytes else { throw .unreadable(path) }
            fromFile = try fileArguments(Data(bytes), path: path)
        }
        var fromEnvironment: [String] = []
        for entry in Self.environment {
            guard let value = environment[entry.variable], !value.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            fromEnvironment += [entry.flag, entry.property.map { "\($0)=\(value)" } ?? value]
        }
        return fromFile + fromEnvironment + arguments
    }

    /// The path after `--config` (or in `--config=PATH`), the last one given.
    static func configPath(in arguments: [String]) -> String? {
        var path: String?
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if argument == "--" { break }
            if argument == "--config", index + 1 < arguments.endIndex {
                path = arguments[index + 1]
                index += 1
            } else if argument.hasPrefix("--config=") {
                path = String(argument.dropFirst("--config=".count))
            }
            index += 1
        }
        return path
    }

    /// `{"port": 8000, "bootstrap-servers": "k:9092", "kafka-config": {"sasl.mechanism": "PLAIN"}, "allow-origin": ["http://a"]}`
    /// as `--port 8000 --bootstrap-servers k:9092 …`. Keys are the flags' names without
    /// dashes; a list repeats its flag; an object (for `kafka-config`) gives key=value.
    static func fileArguments(_ data: Data, path: String) throws(Failure) -> [String] {
        let object: [String: Value]
        do {
            object = try JSONDecoder().decode([String: Value].self, from: data)
        } catch {
            throw .invalid(path, "not a JSON object of flag names to values (\(error))")
        }
        var arguments: [String] = []
        for key in object.keys.sorted() {
            guard let value = object[key] else { continue }
            guard key != "config" else { throw .invalid(path, "a config file cannot name another one") }
            guard key.range(of: "^[a-z][a-z0-9-]*$", options: .regularExpression) != nil else {
                throw .invalid(path, "\"\(key)\" is not a flag name (use the long name without dashes, e.g. \"bootstrap-servers\")")
            }
            let flag = "--\(key)"
            switch value {
            case .list(let items):
                for item in items { arguments += [flag, try item.text(key: key, path: path)] }
            case .object(let properties):
                for name in properties.keys.sorted() {
                    arguments += [flag, "\(name)=\(try properties[name]?.text(key: key, path: path) ?? "")"]
                }
            default:
                arguments += [flag, try value.text(key: key, path: path)]
            }
        }
        return arguments
    }

    /// A value in the config file.
    enum Value: Decodable {
        case text(String)
        case number(String)
        case flag(Bool)
        case list([Value])
        case object([String: Value])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) {
                self = .flag(flag)
            } else if let number = try? container.decode(Int64.self) {
                self = .number(String(number))
            } else if let number = try? container.decode(Double.self) {
                self = .number(String(number))
            } else if let text = try? container.decode(String.self) {
                self = .text(text)
            } else if let list = try? container.decode([Value].self) {
                self = .list(list)
            } else {
                self = .object(try container.decode([String: Value].self))
            }
        }

        func text(key: String, path: String) throws(Failure) -> String {
            switch self {
            case .text(let text), .number(let text): return text
            case .flag: throw .invalid(path, "\"\(key)\" takes a value, not true or false")
            case .list, .object: throw .invalid(path, "\"\(key)\" must be a string or a number (lists and objects only at the top)")
            }
        }
    }

    /// Kafka properties as they may be shown (logs, `/api/status`): secrets replaced.
    public static func redacted(_ properties: [String: String]) -> [String: String] {
        properties.reduce(into: [:]) { shown, entry in
            shown[entry.key] = isSecret(entry.key) ? "(redacted)" : entry.value
        }
    }

    /// librdkafka's properties that hold a secret: passwords, client secrets, JAAS
    /// configurations, private keys.
    public static func isSecret(_ property: String) -> Bool {
        let name = property.lowercased()
        return ["password", "secret", "jaas", "private", ".key.pem", "token"].contains { name.contains($0) }
    }
}
