import Foundation
@testable import HTTPServer
import Testing

@Suite("Router")
struct RouterTests {
    let router: Router = {
        var router = Router()
        router.get("/api/status") { _ in HTTPResponse(status: 200) }
        router.get("/api/timeline/{user_id}") { _ in HTTPResponse(status: 200) }
        router.post("/api/send-message") { _, _ in }
        return router
    }()

    @Test("literal paths match, with or without a trailing slash")
    func literal() {
        guard case .found(let route, let parameters) = router.match(.get, "/api/status") else {
            Issue.record("no match"); return
        }
        #expect(route.pattern == "/api/status")
        #expect(parameters.isEmpty)
        guard case .found = router.match(.get, "/api/status/") else { Issue.record("trailing slash"); return }
    }

    @Test("the first route registered wins, whether the path names a literal route exactly or not")
    func firstRouteWins() {
        var router = Router()
        router.get("/a/{x}") { _ in HTTPResponse(status: 200) }
        router.get("/a/b") { _ in HTTPResponse(status: 201) }
        router.get("/c/d") { _ in HTTPResponse(status: 202) }
        router.get("/c/{y}") { _ in HTTPResponse(status: 203) }
        router.on(.head, "/c/d", respond: { _ in HTTPResponse(status: 204) })
        let expected: [(HTTPMethod, String, String)] = [
            (.get, "/a/b", "/a/{x}"), (.get, "/a/b/", "/a/{x}"), (.get, "//a//b", "/a/{x}"),
            (.get, "/c/d", "/c/d"), (.get, "/c/d/", "/c/d"), (.get, "/c/e", "/c/{y}"),
            // HEAD takes the GET route registered before its own.
            (.head, "/c/d", "/c/d"),
        ]
        for (method, path, pattern) in expected {
            guard case .found(let route, _) = router.match(method, path) else { Issue.record("\(path): no match"); continue }
            #expect(route.pattern == pattern, "\(method) \(path)")
            #expect(route.method == (method == .head ? .get : method), "\(method) \(path)")
        }
    }

    @Test("{param} segments bind their value")
    func parameters() {
        guard case .found(_, let parameters) = router.match(.get, "/api/timeline/alice") else {
            Issue.record("no match"); return
        }
        #expect(parameters == ["user_id": "alice"])
        guard case .notFound = router.match(.get, "/api/timeline/alice/extra") else { Issue.record("extra segment matched"); return }
        guard case .notFound = router.match(.get, "/api/timeline") else { Issue.record("missing segment matched"); return }
    }

    @Test("a known path with another method is 405 with the allowed methods")
    func methodNotAllowed() {
        guard case .methodNotAllowed(let allowed) = router.match(.get, "/api/send-message") else {
            Issue.record("expected 405"); return
        }
        #expect(allowed == [.post])
        let error = HTTPError.methodNotAllowed(.get, path: "/api/send-message", allowed: allowed)
        #expect(error.status == 405)
        #expect(error.headers.first { $0.name == "allow" }?.value == "POST")
    }

    @Test("unknown paths are not found; POST routes take JSON bodies by default")
    func notFoundAndBodies() {
        guard case .notFound = router.match(.get, "/nope") else { Issue.record("expected 404"); return }
        guard case .found(let route, _) = router.match(.post, "/api/send-message") else { Issue.record("no match"); return }
        #expect(route.body == .json)
    }

    @Test("JSON content types are recognised with parameters and in any case")
    func jsonContentType() {
        #expect(ServiceLoop.isJSON("application/json"))
        #expect(ServiceLoop.isJSON("Application/JSON; charset=utf-8"))
        #expect(!ServiceLoop.isJSON("text/plain"))
        #expect(!ServiceLoop.isJSON("application/jsonx"))
        #expect(ServiceLoop.isJSON(" \tapplication/json \t;charset=utf-8"))
        #expect(!ServiceLoop.isJSON(""))
        #expect(!ServiceLoop.isJSON(";application/json"))
        #expect(!ServiceLoop.isJSON("application/js"))
        #expect(ServiceLoop.isJSON("APPLICATION/JSON"))
        // 0x0F | 0x20 is "/": only letters may differ in case.
        #expect(!ServiceLoop.isJSON("application\u{0F}json"))
    }
}

@Suite("HTTPError")
struct HTTPErrorTests {
    @Test("renders {error: {code, message}} with its status")
    func jsonBody() throws {
        let response = HTTPError.badRequest("user_id is missing", code: "invalid_field").response
        #expect(response.status == 400)
        #expect(response.contentType == "application/json")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"error":{"code":"invalid_field","message":"user_id is missing"}}"#)
    }
}

@Suite("HTTPError rendering")
struct HTTPErrorRenderingTests {
    @Test("escapes quotes, backslashes and control characters like JSON requires")
    func escaping() throws {
        let body = HTTPError.badRequest("say \"hi\"\\ \n\u{01}", code: "c").response.body
        let parsed = try JSONSerialization.jsonObject(with: Data(body)) as? [String: [String: String]]
        #expect(parsed?["error"]?["message"] == "say \"hi\"\\ \n\u{01}")
        #expect(parsed?["error"]?["code"] == "c")
    }

    @Test("paths under a reserved prefix never resolve to files")
    func reserved() {
        var router = Router()
        router.reserve(prefix: "/api/")
        #expect(router.isReserved("/api/nope"))
        #expect(!router.isReserved("/app.js"))
    }
}

@Suite("HTTPHeaders")
struct HTTPHeadersTests {
    @Test("framing reads Content-Length from its field: a POST without it is 411, with a bad one 400")
    func framingReadsContentLength() {
        let headers = HTTPHeaders(contentType: "application/json", contentLength: "12", authorization: "Bearer t")
        #expect(RequestFraming.error(method: .post, path: "/", headers: HTTPHeaders(), hasTransferEncoding: false)?.status == 411)
        #expect(RequestFraming.error(method: .post, path: "/", headers: HTTPHeaders(contentLength: "-1"), hasTransferEncoding: false)?.status == 400)
        #expect(RequestFraming.error(method: .post, path: "/", headers: headers, hasTransferEncoding: false) == nil)
    }
}
