import Foundation

/// Maps URL paths to files under a few root folders, with no way out of them.
///
/// A path is refused when any segment is `.`, `..`, hidden (`.name`), or holds a
/// backslash or NUL; the file found must also resolve (symlinks followed) inside its
/// root. Paths arrive already percent-decoded by libwebsockets and are never decoded
/// again, so `%2e%2e` cannot become `..` here.
public struct StaticFiles: Sendable {
    /// A URL prefix served from a folder, e.g. `/vendor/chart.js` → `/usr/share/javascript/chart.js`.
    public struct Mount: Sendable, Equatable {
        public var prefix: String
        public var directory: String

        public init(prefix: String, directory: String) {
            self.prefix = prefix
            self.directory = directory
        }
    }

    public struct File: Sendable, Equatable {
        public var path: String
        public var contentType: String
    }

    let mounts: [Mount]

    /// Longer prefixes win; `/` should be the `Public/` folder.
    public init(mounts: [Mount]) {
        self.mounts = mounts
            .map { Mount(prefix: Self.normalizedPrefix($0.prefix), directory: Self.canonical($0.directory) ?? $0.directory) }
            .sorted { $0.prefix.count > $1.prefix.count }
    }

    /// The file to serve for `urlPath`, or nil when there is none or the path is unsafe.
    /// A folder is served through its `index.html`.
    public func resolve(_ urlPath: String) -> File? {
        guard let mount = mounts.first(where: { urlPath == $0.prefix.dropLast() || urlPath.hasPrefix($0.prefix) }) else { return nil }
        let rest = urlPath.dropFirst(min(urlPath.count, mount.prefix.count))
        var segments: [Substring] = []
        for segment in rest.split(separator: "/", omittingEmptySubsequences: true) {
            guard Self.isSafe(segment) else { return nil }
            segments.append(segment)
        }
        var candidate = ([mount.directory] + segments.map(String.init)).joined(separator: "/")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue {
            candidate += "/index.html"
        }
        guard let real = Self.canonical(candidate), real.hasPrefix(mount.directory + "/"),
              FileManager.default.isReadableFile(atPath: real),
              (try? FileManager.default.attributesOfItem(atPath: real)[.type] as? FileAttributeType) == .typeRegular
        else { return nil }
        return File(path: real, contentType: Self.contentType(forPath: real))
    }

    static func isSafe(_ segment: Substring) -> Bool {
        !segment.hasPrefix(".") && !segment.contains("\\") && !segment.contains("\0")
    }

    /// The content type for a file name, by extension.
    public static func contentType(forPath path: String) -> String {
        let ext = path.split(separator: "/").last?.split(separator: ".", omittingEmptySubsequences: false).dropFirst().last?.lowercased() ?? ""
        return contentTypes[ext] ?? "application/octet-stream"
    }

    static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8",
        "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8",
        "json": "application/json",
        "map": "application/json",
        "svg": "image/svg+xml",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "ico": "image/x-icon",
        "webp": "image/webp",
        "woff2": "font/woff2",
        "txt": "text/plain; charset=utf-8",
        "md": "text/markdown; charset=utf-8",
    ]

    private static func normalizedPrefix(_ prefix: String) -> String {
        prefix.hasSuffix("/") ? prefix : prefix + "/"
    }

    private static func canonical(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
