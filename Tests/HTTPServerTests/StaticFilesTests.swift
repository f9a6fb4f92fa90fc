import Foundation
@testable import HTTPServer
import Testing

@Suite("Static files: content types and no way out of the folder")
struct StaticFilesTests {
    /// A temporary tree: root/{index.html, app.js, css/site.css, .secret}, a file
    /// beside the root, and a symlink inside the root pointing out of it.
    final class Tree {
        let base: String
        var root: String { base + "/public" }

        init() throws {
            base = NSTemporaryDirectory() + "static-\(UUID().uuidString)"
            let fm = FileManager.default
            try fm.createDirectory(atPath: base + "/public/css", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: base + "/vendor", withIntermediateDirectories: true)
            try Data("<h1>hi</h1>".utf8).write(to: URL(fileURLWithPath: root + "/index.html"))
            try Data("console.log(1)".utf8).write(to: URL(fileURLWithPath: root + "/app.js"))
            try Data("body{}".utf8).write(to: URL(fileURLWithPath: root + "/css/site.css"))
            try Data("secret".utf8).write(to: URL(fileURLWithPath: root + "/.secret"))
            try Data("outside".utf8).write(to: URL(fileURLWithPath: base + "/outside.txt"))
            try Data("chart".utf8).write(to: URL(fileURLWithPath: base + "/vendor/chart.min.js"))
            try fm.createSymbolicLink(atPath: root + "/escape.txt", withDestinationPath: base + "/outside.txt")
        }

        deinit { try? FileManager.default.removeItem(atPath: base) }

        var files: StaticFiles {
            StaticFiles(mounts: [.init(prefix: "/", directory: root), .init(prefix: "/vendor/chart.js", directory: base + "/vendor")])
        }
    }

    @Test("folders serve index.html; files get their content type")
    func serves() throws {
        let tree = try Tree()
        let files = tree.files
        #expect(files.resolve("/")?.path.hasSuffix("/public/index.html") == true)
        #expect(files.resolve("/")?.contentType == "text/html; charset=utf-8")
        #expect(files.resolve("/app.js")?.contentType == "text/javascript; charset=utf-8")
        #expect(files.resolve("/css/site.css")?.contentType == "text/css; charset=utf-8")
        #expect(files.resolve("/vendor/chart.js/chart.min.js")?.path.hasSuffix("/vendor/chart.min.js") == true)
        #expect(files.resolve("/missing.html") == nil)
    }

    @Test("dot-dot, hidden files, backslashes and symlinks out of the root are refused", arguments: [
        "/../outside.txt", "/css/../../outside.txt", "/..", "/./index.html", "/.secret",
        "/css/..%2f..%2foutside.txt", "/..\\outside.txt", "/escape.txt", "/vendor/chart.js/../public/index.html",
    ])
    func refuses(path: String) throws {
        let tree = try Tree()
        #expect(tree.files.resolve(path) == nil, "\(path) must not resolve")
    }

    @Test("content types by extension")
    func contentTypes() {
        #expect(StaticFiles.contentType(forPath: "/a/b.SVG") == "image/svg+xml")
        #expect(StaticFiles.contentType(forPath: "/a/data.json") == "application/json")
        #expect(StaticFiles.contentType(forPath: "/a/noext") == "application/octet-stream")
    }
}
