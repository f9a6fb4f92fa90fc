import Dispatch
import Foundation
import HTTPTestSupport
import Kafka
import KafkaGateway
import Logging
import Synchronization
import Testing

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// The embedded cluster (on 127.0.0.1) with a gateway in front of it that listens and
/// advertises on 127.0.0.2, the stand-in for the instructor's LAN address.
final class GatewayFixture {
    let cluster: EmbeddedKafka
    let gateway: KafkaGateway

    init(
        topics: [KafkaTopicSpec] = [.init("t", partitions: 3)], configure: (inout KafkaGateway.Configuration) -> Void = { _ in },
        keylessRefused: (@Sendable (RefusedRecord) -> Void)? = nil
    ) throws {
        cluster = try EmbeddedKafka(brokers: 3, topics: topics, logger: quietLogger)
        var configuration = KafkaGateway.Configuration()
        configuration.listenHost = "127.0.0.2"
        configuration.listenPort = 0
        configuration.advertisedHost = "127.0.0.2"
        configure(&configuration)
        gateway = KafkaGateway(
            configuration: configuration, upstreams: KafkaGateway.Upstream.list(cluster.bootstrapServers), logger: quietLogger, keylessRefused: keylessRefused
        )
        do {
            try gateway.start()
        } catch {
            cluster.stop()
            throw error
        }
    }

    var kafka: KafkaConfiguration { KafkaConfiguration(bootstrapServers: gateway.bootstrapAddress, clientID: "gateway-test") }

    deinit {
        gateway.stop()
        cluster.stop()
    }
}

@Suite("The Kafka gateway, with real clients over loopback TCP")
struct KafkaGatewayTests {
    @Test("metadata through the gateway names only the gateway: its host, one port per broker")
    func metadata() throws {
        let fixture = try GatewayFixture()
        let ports = fixture.gateway.ports
        #expect(ports.count == 3)
        let admin = try KafkaAdmin(configuration: fixture.kafka, logger: quietLogger)
        defer { admin.close() }
        let metadata = try admin.metadata(timeout: .seconds(5))
        #expect(Set(metadata.brokers.map(\.host)) == ["127.0.0.2"])
        #expect(Set(metadata.brokers.map { Int($0.port) }) == Set(ports))
        #expect(metadata.topics.first { $0.name == "t" }?.partitionCount == 3)
    }

    @Test("records produced through the gateway are read back through it, by a consumer group")
    func produceAndConsume() throws {
        let fixture = try GatewayFixture()
        let producer = try KafkaProducer(configuration: fixture.kafka, logger: quietLogger)
        defer { producer.close() }
        let acknowledged = Atomic<Int>(0)
        for index in 0..<30 {
            producer.send(topic: "t", key: Array("key-\(index % 7)".utf8), value: Array("value-\(index)".utf8)) { result in
                if case .success = result { acknowledged.add(1, ordering: .relaxed) }
            }
        }
        #expect(eventually(timeout: .seconds(15)) { acknowledged.load(ordering: .relaxed) == 30 })

        let received = Mutex<Set<String>>([])
        let consumer = try KafkaConsumer(configuration: fixture.kafka, consumer: KafkaConsumerConfiguration(mode: .group(id: "readers", topics: ["t"])), logger: quietLogger)
        defer { consumer.close() }
        consumer.run { event in
            if case .record(let record) = event {
                received.withLock { _ = $0.insert(String(decoding: record.value, as: UTF8.self)) }
            }
        }
        #expect(eventually(timeout: .seconds(20)) { received.withLock { $0.count } == 30 })
        // Every byte went through the gateway: its connections saw produce and fetch.
        let apis = Set(fixture.gateway.registry.connections.flatMap { $0.requests.keys })
        #expect(apis.isSuperset(of: [0, 1, 3]))
    }

    @Test("a producer with acks=0 (which Apache Kafka never answers) keeps its connection and its records are stored")
    func acksZero() throws {
        let fixture = try GatewayFixture()
        let configuration = KafkaConfiguration(bootstrapServers: fixture.gateway.bootstrapAddress, clientID: "fire-and-forget",
                                               properties: ["acks": "0", "enable.idempotence": "false"])
        let producer = try KafkaProducer(configuration: configuration, logger: quietLogger)
        defer { producer.close() }
        let done = Atomic<Int>(0)
        for index in 0..<20 {
            producer.send(topic: "t", key: Array("k\(index)".utf8), value: Array("v".utf8)) { _ in done.add(1, ordering: .relaxed) }
        }
        #expect(eventually(timeout: .seconds(10)) { done.load(ordering: .relaxed) == 20 })
        let admin = try KafkaAdmin(configuration: fixture.kafka, logger: quietLogger)
        defer { admin.close() }
        #expect(eventually(timeout: .seconds(10)) {
            let marks = (try? admin.watermarks(topic: "t", partitionCount: 3)) ?? [:]
            return marks.values.reduce(0) { $0 + $1.high } == 20
        })
        #expect(!fixture.gateway.registry.totals.lastErrors.contains { $0.contains("answers no request") })
        #expect(fixture.gateway.registry.connections.contains { $0.clientID == "fire-and-forget" && ($0.requests[0] ?? 0) > 0 })
    }

    @Test("a taken port: the gateway says so and listens on the next free range")
    func takenPort() throws {
        let blocker = try GatewayFixture()
        let taken = try #require(blocker.gateway.ports.first)
        let second = try GatewayFixture { $0.listenPort = taken }
        #expect(second.gateway.ports.count == 3)
        #expect(second.gateway.ports.first.map { $0 > taken } == true)
        #expect(Set(second.gateway.ports).isDisjoint(with: blocker.gateway.ports))
    }
}

@Suite("The Kafka gateway against hostile bytes")
struct GatewayHostileTests {
    /// Sends `bytes` on a fresh connection and says whether the gateway closed it
    /// (end of stream or reset) within 3 s.
    static func closes(port: Int, after bytes: [UInt8]) throws -> Bool {
        let socket = try BlockingSocket(host: "127.0.0.2", port: port, timeoutSeconds: 3)
        try socket.write(bytes)
        return (try? socket.readToEnd()) != nil  // nil: still open when the read timed out
    }

    static func frame(size: Int32, body: [UInt8] = []) -> [UInt8] {
        withUnsafeBytes(of: size.bigEndian) { Array($0) } + body
    }

    @Test("a frame size below 0 or above 100 MiB, a header cut short, garbage: that connection is closed, the others are served")
    func hostileFrames() throws {
        let fixture = try GatewayFixture()
        let port = try #require(fixture.gateway.ports.first)
        #expect(try Self.closes(port: port, after: Self.frame(size: -1)))
        #expect(try Self.closes(port: port, after: Self.frame(size: 100 * 1024 * 1024 + 1)))
        #expect(try Self.closes(port: port, after: Self.frame(size: 3, body: [0, 3, 0])))
        #expect(try Self.closes(port: port, after: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)))
        // A header whose client id claims more bytes than the frame holds.
        #expect(try Self.closes(port: port, after: Self.frame(size: 10, body: [0, 3, 0, 0, 0, 0, 0, 1, 0x7f, 0xff])))
        // A response nobody asked for can only come from the broker; a request with no
        // answer pending is fine: Metadata v0 for all topics is answered.
        let admin = try KafkaAdmin(configuration: fixture.kafka, logger: quietLogger)
        defer { admin.close() }
        #expect(try admin.metadata(timeout: .seconds(5)).brokers.count == 3)
        let reasons = fixture.gateway.registry.totals.lastErrors
        #expect(reasons.contains { $0.contains("frame size -1") })
        #expect(reasons.contains { $0.contains("frame size 104857601") })
        #expect(reasons.contains { $0.contains("request header") })
    }

    @Test("frames trickled in hold a shared budget of the bytes received: over it a connection is closed, a closed one gives its share back; a request over 16 MiB is refused at its size")
    func partialFrameBudget() throws {
        let fixture = try GatewayFixture { $0.partialFrameBudget = 1024 * 1024 }
        let port = try #require(fixture.gateway.ports.first)
        // A 1 MiB request of which 800 KiB arrive: 800 KiB held.
        let partial = Self.frame(size: 1024 * 1024) + [0, 18, 0, 0] + [UInt8](repeating: 0, count: 800 * 1024)
        let first = try BlockingSocket(host: "127.0.0.2", port: port, timeoutSeconds: 2)
        try first.write(partial)
        #expect(eventually { fixture.gateway.registry.connections.first?.bytesIn == 0 })
        Thread.sleep(forTimeInterval: 0.3)  // the first's bytes are read and held
        #expect(try Self.closes(port: port, after: partial))  // no room for another 800 KiB
        #expect((try? first.readToEnd()) == nil)  // the first is still open (the read timed out)
        first.close()
        #expect(eventually { fixture.gateway.registry.connections.isEmpty })
        let third = try BlockingSocket(host: "127.0.0.2", port: port, timeoutSeconds: 2)
        try third.write(partial)
        #expect((try? third.readToEnd()) == nil)  // room again: kept open
        // A size field alone holds nothing: sixteen of them do not lock anyone out.
        let sizes = try (0..<16).map { _ in try BlockingSocket(host: "127.0.0.2", port: port, timeoutSeconds: 2) }
        for socket in sizes { try socket.write(Self.frame(size: 16 * 1024 * 1024)) }
        #expect(try Self.closes(port: port, after: Self.frame(size: 16 * 1024 * 1024 + 1)))
    }

    @Test("a request left half sent is closed after the partial-frame timeout; a silent connection with nothing pending stays")
    func partialFrameTimeout() throws {
        let fixture = try GatewayFixture { $0.partialFrameTimeout = .milliseconds(500) }
        let port = try #require(fixture.gateway.ports.first)
        let idle = try BlockingSocket(host: "127.0.0.2", port: port, timeoutSeconds: 2)
        let halfSent = try BlockingSocket(host: "127.0.0.2", port: port, timeoutSeconds: 2)
        try halfSent.write(Self.frame(size: 100) + [0, 18])
        #expect((try? halfSent.readToEnd()) != nil)  // closed
        #expect((try? idle.readToEnd()) == nil)  // still open after 2 s of silence
        #expect(fixture.gateway.registry.totals.lastErrors.contains { $0.contains("left incomplete") })
    }

    @Test("one address cannot take every slot: beyond its share its connections are refused, others still get in")
    func perAddressLimit() throws {
        let fixture = try GatewayFixture { $0.maxConnectionsPerAddress = 2 }
        let port = try #require(fixture.gateway.ports.first)
        let first = try BlockingSocket(host: "127.0.0.2", port: port, timeoutSeconds: 2)
        let second = try BlockingSocket(host: "127.0.0.2", port: port, timeoutSeconds: 2)
        #expect(eventually { fixture.gateway.registry.connections.count == 2 })
        let third = try BlockingSocket(host: "127.0.0.2", port: port, timeoutSeconds: 2)
        #expect((try? third.readToEnd()) != nil)
        #expect(fixture.gateway.registry.totals.refused == 1)
        _ = (first, second)
    }

    @Test("a broker that is down: the client's connection to it is closed, the gateway stays up")
    func brokerDown() throws {
        let fixture = try GatewayFixture()
        let ports = fixture.gateway.ports
        try fixture.cluster.setBroker(2, up: false)
        // Broker 2's listener: the gateway cannot reach it and closes the client.
        var apiVersions: [UInt8] = [0, 18, 0, 0, 0, 0, 0, 9, 0, 1, 0x78]  // ApiVersions v0, client id "x"
        apiVersions = Self.frame(size: Int32(apiVersions.count), body: apiVersions)
        #expect(try Self.closes(port: ports[1], after: apiVersions))
        try fixture.cluster.setBroker(2, up: true)
        let admin = try KafkaAdmin(configuration: fixture.kafka, logger: quietLogger)
        defer { admin.close() }
        #expect(try admin.metadata(timeout: .seconds(5)).brokers.count == 3)
    }

    @Test("connections beyond the limit are refused at once; the ones inside it are served")
    func connectionLimit() throws {
        let fixture = try GatewayFixture { $0.maxConnections = 2 }
        let port = try #require(fixture.gateway.ports.first)
        let first = try BlockingSocket(host: "127.0.0.2", port: port, timeoutSeconds: 3)
        let second = try BlockingSocket(host: "127.0.0.2", port: port, timeoutSeconds: 3)
        #expect(eventually { fixture.gateway.registry.connections.count == 2 })
        let third = try BlockingSocket(host: "127.0.0.2", port: port, timeoutSeconds: 3)
        #expect((try? third.readToEnd()) != nil)
        #expect(fixture.gateway.registry.totals.refused == 1)
        _ = (first, second)
    }
}
