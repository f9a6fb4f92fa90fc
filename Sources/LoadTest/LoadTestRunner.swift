import ServerSupport
import Foundation
import Synchronization

/// Posts through `POST /api/send-message` over many keep-alive connections, measures
/// throughput and latency, and checks through the API that every acknowledged post
/// reached its user's timeline, in order.
public enum LoadTestRunner {
    /// Runs the test; `progress` receives a line now and then.
    public static func run(_ configuration: LoadTestConfiguration, progress: @Sendable (String) -> Void = { _ in }) throws -> LoadTestReport {
        let users = (0..<max(1, configuration.users)).map { "\(configuration.userPrefix)-\($0)" }
        let next = Atomic<Int>(0)
        let outcomes = Mutex<[WorkerOutcome]>([])
        let crowd = try configuration.webSocketCrowd > 0 ? WebSocketCrowd(count: configuration.webSocketCrowd, host: configuration.host, port: configuration.port) : nil
        let watcher: WebSocketWatcher?
        do {
            watcher = try configuration.watchWebSocket
                ? WebSocketWatcher(host: configuration.host, port: configuration.port, prefix: configuration.userPrefix, channels: crowd == nil ? ["messages"] : WebSocketCrowd.everyChannel)
                : nil
        } catch {
            _ = crowd?.finish()  // its reading thread and sockets
            throw error
        }
        // A server without /metrics (an older one) just has no stages in the report.
        let stagesBefore = watcher == nil ? nil : try? ServerStages.scrape(host: configuration.host, port: configuration.port)

        let start = ContinuousClock.now
        let concurrency = max(1, configuration.concurrency)
        let interval: Duration? = configuration.rate.map { .seconds(Double(concurrency) / max(1, $0)) }
        // One thread per connection (concurrentPerform would run only as many as cores).
        runThreads(concurrency) { lane in
            var outcome = WorkerOutcome()
            var connection = try? HTTPConnection(port: configuration.port, host: configuration.host)
            var nextSend = start + (interval ?? .zero) * (Double(lane) / Double(concurrency))
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < configuration.messages else { break }
                if let interval {
                    let now = ContinuousClock.now
                    if nextSend > now { Thread.sleep(forTimeInterval: (nextSend - now).inMilliseconds / 1000) }
                    nextSend += interval
                }
                let user = users[index % users.count]
                let body = #"{"user_id":"\#(user)","content":"load test post \#(index)","key_strategy":"\#(configuration.keyStrategy)"}"#
                let sent = ContinuousClock.now
                do {
                    if connection == nil { connection = try HTTPConnection(port: configuration.port, host: configuration.host) }
                    guard let connection else { throw HTTPClientError("no connection") }
                    let response = try connection.postJSON("/api/send-message", body)
                    outcome.latencies.append((ContinuousClock.now - sent).inMilliseconds)
                    if response.status == 201, let json = response.json, let seq = json["seq"] as? Int {
                        outcome.acknowledged.append(Acknowledged(user: user, sequence: seq, sent: sent))
                    } else {
                        outcome.errors["\(response.status)", default: 0] += 1
                    }
                } catch {
                    outcome.latencies.append((ContinuousClock.now - sent).inMilliseconds)
                    outcome.errors["connection", default: 0] += 1
                    connection = nil
                }
            }
            outcomes.withLock { $0.append(outcome) }
        }
        let elapsed = ContinuousClock.now - start
        let all = outcomes.withLock { $0 }
        let acknowledged = all.flatMap(\.acknowledged)
        let errors = all.reduce(into: [String: Int]()) { $0.merge($1.errors, uniquingKeysWith: +) }
        let seconds = elapsed.inMilliseconds / 1000
        progress("posted \(configuration.messages) in \(String(format: "%.1f", seconds)) s; verifying")

        var report = LoadTestReport(
            requests: configuration.messages, acknowledged: acknowledged.count, errors: errors.values.reduce(0, +),
            errorsByStatus: errors, seconds: seconds, requestsPerSecond: Double(configuration.messages) / max(seconds, 1e-9),
            latency: LatencySummary(milliseconds: all.flatMap(\.latencies))
        )
        if let watcher {
            let (latency, missing) = watcher.finish(expecting: acknowledged, timeout: .seconds(10))
            report.webSocketLatency = latency
            report.webSocketMissing = missing
            if let stagesBefore, let stagesAfter = try? ServerStages.scrape(host: configuration.host, port: configuration.port) {
                report.serverStages = ServerStages(before: stagesBefore, after: stagesAfter)
            }
        }
        report.webSocketCrowd = crowd?.finish()
        if configuration.verify {
            report.verification = try verify(acknowledged, users: users, configuration: configuration)
        }
        return report
    }

    /// Runs `body(0..<count)` on `count` threads of its own and waits for all.
    static func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for lane in 0..<count {
            group.enter()
            let thread = Thread {
                body(lane)
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
    }

    struct Acknowledged: Sendable {
        var user: String
        var sequence: Int
        var sent: ContinuousClock.Instant
    }

    private struct WorkerOutcome {
        var latencies: [Double] = []
        var acknowledged: [Acknowledged] = []
        var errors: [String: Int] = [:]
    }

    /// Waits (up to 60 s) until the server counts every acknowledged post, then compares
    /// each user's timeline with what was acknowledged.
    private static func verify(_ acknowledged: [Acknowledged], users: [String], configuration: LoadTestConfiguration) throws -> LoadTestReport.Verification {
        var expected: [String: [Int]] = [:]
        for post in acknowledged { expected[post.user, default: []].append(post.sequence) }
        let connection = try HTTPConnection(port: configuration.port, host: configuration.host)
        let deadline = ContinuousClock.now + .seconds(60)
        var timelines: [String: [String: Any]] = [:]
        while true {
            for (user, sequences) in expected where ((timelines[user]?["post_count"] as? Int) ?? -1) < sequences.count {
                let response = try connection.get("/api/timeline/\(user)?limit=100")
                if response.status == 200, let json = response.json { timelines[user] = json }
            }
            let complete = expected.allSatisfy { user, sequences in ((timelines[user]?["post_count"] as? Int) ?? -1) >= sequences.count }
            if complete || ContinuousClock.now > deadline { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        var lost = 0
        var violations = 0
        var outOfOrder = 0
        var complete = true
        for (user, sequences) in expected {
            guard let timeline = timelines[user] else {
                lost += sequences.count
                complete = false
                continue
            }
            let counted = timeline["post_count"] as? Int ?? 0
            if counted < sequences.count { complete = false }
            lost += max(0, sequences.count - counted)
            violations += (timeline["ordering"] as? [String: Any])?["violations"] as? Int ?? 0
            let shown = (timeline["posts"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int } ?? []
            let newest = Array(sequences.sorted(by: >).prefix(shown.count))
            if shown != newest { outOfOrder += 1 }
        }
        return .init(lost: lost, violations: violations, usersOutOfOrder: outOfOrder, complete: complete)
    }
}

/// Watches the `messages` channel and notes when each post of the run arrives.
final class WebSocketWatcher: @unchecked Sendable {
    private let socket: WebSocketConnection
    private let seen = Mutex<[String: ContinuousClock.Instant]>([:])
    private let stopFlag = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(host: String, port: Int, prefix: String, channels: [String]) throws {
        socket = try WebSocketConnection(port: port, host: host, timeoutSeconds: 1)
        try socket.subscribe(to: channels)
        let marker = Array("\"user_id\":\"".utf8)
        let prefixBytes = Array(prefix.utf8)
        Thread { [self] in
            while !stopFlag.load(ordering: .relaxed) {
                guard let frame = try? socket.receive() else { continue }
                let now = ContinuousClock.now
                let keys = Self.postKeys(in: Array(frame.utf8), userMarker: marker, prefix: prefixBytes)
                guard !keys.isEmpty else { continue }
                seen.withLock { seen in
                    for key in keys { seen[key] = now }
                }
            }
            done.signal()
        }.start()
    }

    /// `user#seq` of each post in a `messages` frame whose user starts with `prefix`.
    /// A cheap field scan instead of a JSON parse: the watcher must keep up with the
    /// frames or the server drops its oldest.
    static func postKeys(in bytes: [UInt8], userMarker: [UInt8], prefix: [UInt8]) -> [String] {
        let seqMarker = Array("\"seq\":".utf8)
        var keys: [String] = []
        var from = bytes.startIndex
        // Fields are sorted: "seq" comes before "timestamp" and "user_id" in each post.
        while let seqRange = bytes[from...].firstRange(of: seqMarker) {
            var index = seqRange.upperBound
            var sequence = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                sequence = sequence * 10 + Int(bytes[index] - 0x30)
                index += 1
            }
            guard let userRange = bytes[index...].firstRange(of: userMarker) else { break }
            let userStart = userRange.upperBound
            guard let userEnd = bytes[userStart...].firstIndex(of: UInt8(ascii: "\"")) else { break }
            if bytes[userStart...].starts(with: prefix) {
                keys.append(String(decoding: bytes[userStart..<userEnd], as: UTF8.self) + "#\(sequence)")
            }
            from = userEnd
        }
        return keys
    }

    /// Waits until every acknowledged post was seen (or `timeout`), stops, and returns
    /// the latencies and how many were never seen.
    func finish(expecting acknowledged: [LoadTestRunner.Acknowledged], timeout: Duration) -> (LatencySummary, Int) {
        let deadline = ContinuousClock.now + timeout
        while seen.withLock({ $0.count }) < acknowledged.count, ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        stopFlag.store(true, ordering: .relaxed)
        done.wait()
        socket.close()
        let arrivals = seen.withLock { $0 }
        var latencies: [Double] = []
        var missing = 0
        for post in acknowledged {
            if let arrived = arrivals["\(post.user)#\(post.sequence)"] {
                latencies.append((arrived - post.sent).inMilliseconds)
            } else {
                missing += 1
            }
        }
        return (LatencySummary(milliseconds: latencies), missing)
    }
}
