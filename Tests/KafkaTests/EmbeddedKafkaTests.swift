import Dispatch
import HTTPTestSupport
import Kafka
import Synchronization
import Testing

@Suite("Embedded Kafka and the Kafka wrapper, over loopback TCP")
struct EmbeddedKafkaTests {
    @Test("the embedded cluster answers metadata with its brokers and topics")
    func metadata() throws {
        let cluster = try EmbeddedKafka(brokers: 3, topics: [.init("user-timeline", partitions: 6)], logger: quietLogger)
        defer { cluster.stop() }
        #expect(cluster.bootstrapServers.split(separator: ",").count == 3)
        #expect(cluster.bootstrapServers.hasPrefix("127.0.0.1:"))

        let admin = try KafkaAdmin(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        defer { admin.close() }
        let metadata = try admin.metadata()
        #expect(metadata.brokers.map(\.id) == [1, 2, 3])
        let topic = try #require(metadata.topics.first { $0.name == "user-timeline" })
        #expect(topic.partitionCount == 6)
        #expect(topic.error == nil)
    }

    /// librdkafka's mock cluster picks each partition's leader at random. Where the six
    /// leaders of user-timeline fell on two brokers instead of three, the producer sent a
    /// third fewer produce requests per batch, and benchmark runs differed by a quarter.
    @Test("partition leaders are spread evenly over the brokers, and each topic starts on the next broker")
    func leadersSpreadEvenly() throws {
        let spread = (0..<4).map { KafkaTopicSpec("spread-\($0)", partitions: 6) }
        let single = (0..<3).map { KafkaTopicSpec("single-\($0)", partitions: 1) }
        let cluster = try EmbeddedKafka(brokers: 3, topics: spread + single, logger: quietLogger)
        defer { cluster.stop() }
        let admin = try KafkaAdmin(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        defer { admin.close() }
        let metadata = try admin.metadata()
        for spec in spread {
            let topic = try #require(metadata.topics.first { $0.name == spec.name })
            #expect(Dictionary(grouping: topic.leaders, by: \.self).mapValues(\.count) == [1: 2, 2: 2, 3: 2], "\(spec.name): \(topic.leaders)")
        }
        let singles = single.compactMap { spec in metadata.topics.first { $0.name == spec.name }?.leaders.first }
        #expect(Set(singles) == [1, 2, 3], "single-partition topics' leaders: \(singles)")
    }

    /// A cluster dropped without `stop()` aborted the whole process: librdkafka asserts
    /// that a client's mock clusters are destroyed before the client is.
    @Test("a cluster dropped without stop() closes its brokers' ports")
    func droppedClusterStops() throws {
        var port = 0
        do {
            let cluster = try EmbeddedKafka(brokers: 1, logger: quietLogger)
            port = try #require(cluster.bootstrapServers.split(separator: ":").last.flatMap { Int($0) })
            let socket = try TestSocket(host: "127.0.0.1", port: port)
            socket.close()
        }
        #expect(throws: (any Error).self, "port \(port) still listens") { try TestSocket(host: "127.0.0.1", port: port).close() }
    }

    /// The embedded cluster has no controller to describe configurations: the topic check
    /// learns that within its timeout, with librdkafka's reason, and says so.
    @Test("DescribeConfigs on the embedded cluster fails within its timeout, with the reason")
    func describeConfigsUnsupported() throws {
        let cluster = try EmbeddedKafka(topics: [.init("t", partitions: 2, config: ["cleanup.policy": "compact"])], logger: quietLogger)
        defer { cluster.stop() }
        let admin = try KafkaAdmin(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        defer { admin.close() }
        let began = ContinuousClock.now
        let error = #expect(throws: KafkaError.self) { _ = try admin.topicConfigs(["t"], timeout: .seconds(1)) }
        #expect(ContinuousClock.now - began < .seconds(3))
        #expect(error?.code == .timedOut)
        #expect(error?.description.contains("controller") == true, "\(String(describing: error))")
    }

    @Test("a send resolves with the partition and offset the broker acknowledged, and a consumer reads it back")
    func produceAndConsume() async throws {
        let cluster = try EmbeddedKafka(topics: [.init("t", partitions: 6)], logger: quietLogger)
        defer { cluster.stop() }
        let config = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: config, logger: quietLogger)
        defer { producer.close() }

        var reports: [KafkaDeliveryReport] = []
        for index in 0..<5 {
            reports.append(try await producer.send(topic: "t", key: "alice".bytes, value: "post \(index)".bytes))
        }
        // alice → 3 under murmur2, as kafka-python 2.0.2 and the Java client place it.
        #expect(reports.map(\.partition) == Array(repeating: 3, count: 5))
        #expect(reports.map(\.offset) == [0, 1, 2, 3, 4])
        #expect(producer.inFlight == 0)

        let collector = EventCollector()
        let consumer = try KafkaConsumer(configuration: config, consumer: .init(mode: .assignAllFromEarliest(topics: ["t"])), logger: quietLogger)
        consumer.run { collector.append($0) }
        defer { consumer.close() }
        #expect(await eventuallyAsync(timeout: .seconds(10)) { collector.records.count == 5 })
        let records = collector.records
        #expect(records.map { String(decoding: $0.value, as: UTF8.self) } == (0..<5).map { "post \($0)" })
        #expect(records.allSatisfy { $0.key == "alice".bytes && $0.partition == 3 && $0.topic == "t" })
        #expect(records.allSatisfy { $0.timestampMilliseconds != nil })
        let assigned = collector.events.compactMap { if case .assigned(let partitions) = $0 { partitions } else { nil } }
        #expect(assigned.first?.count == 6)
    }

    @Test("with reportsEndOfPartition each partition reports its end after its records, empty ones too, and again after new records")
    func endOfPartition() async throws {
        let cluster = try EmbeddedKafka(topics: [.init("t", partitions: 3)], logger: quietLogger)
        defer { cluster.stop() }
        let config = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: config, logger: quietLogger)
        defer { producer.close() }
        let first = try await producer.send(topic: "t", key: "alice".bytes, value: "one".bytes)
        var reading = KafkaConsumerConfiguration(mode: .assignAllFromEarliest(topics: ["t"]))
        reading.reportsEndOfPartition = true
        let collector = EventCollector()
        let consumer = try KafkaConsumer(configuration: config, consumer: reading, logger: quietLogger)
        consumer.run { collector.append($0) }
        defer { consumer.close() }
        func ends() -> [Int32] { collector.events.compactMap { if case .endOfPartition(let tp) = $0 { tp.partition } else { nil } } }
        #expect(await eventuallyAsync(timeout: .seconds(10)) { Set(ends()) == [0, 1, 2] })
        // The record came before its partition's end.
        let order = collector.events.compactMap { event -> String? in
            switch event {
            case .record: "record"
            case .endOfPartition(let tp) where tp.partition == first.partition: "end"
            default: nil
            }
        }
        #expect(order == ["record", "end"])
        _ = try await producer.send(topic: "t", key: "alice".bytes, value: "two".bytes)
        #expect(await eventuallyAsync(timeout: .seconds(10)) { ends().filter { $0 == first.partition }.count == 2 })
        #expect(collector.records.count == 2)
    }

    @Test("keys land where the Java client puts them (murmur2), not where librdkafka's default would")
    func murmur2Placement() async throws {
        let cluster = try EmbeddedKafka(topics: [.init("t", partitions: 6)], logger: quietLogger)
        defer { cluster.stop() }
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        defer { producer.close() }
        // Reference values computed with kafka-python 2.0.2's murmur2 (see INTEROP.md).
        for (key, partition) in [("alice", 3), ("bob", 0), ("carol", 2)] {
            let report = try await producer.send(topic: "t", key: key.bytes, value: [1])
            #expect(report.partition == Int32(partition), "key \(key)")
        }
    }

    @Test("records without key spread over partitions even in a burst (no sticky partitioning)")
    func keylessSpread() async throws {
        let cluster = try EmbeddedKafka(topics: [.init("k", partitions: 6)], logger: quietLogger)
        defer { cluster.stop() }
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        defer { producer.close() }
        let partitions = Mutex<Set<Int32>>([])
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<60 {
            producer.send(topic: "k", key: nil, value: [1]) { result in
                if case .success(let report) = result { partitions.withLock { _ = $0.insert(report.partition) } }
                done.signal()
            }
        }
        for _ in 0..<60 { await withCheckedContinuation { continuation in DispatchQueue.global().async { done.wait(); continuation.resume() } } }
        #expect(partitions.withLock { $0.count } >= 4)
    }

    @Test("a group consumer commits offset + 1 of what it processed, visible to the admin client")
    func groupCommit() async throws {
        let cluster = try EmbeddedKafka(topics: [.init("g", partitions: 2)], logger: quietLogger)
        defer { cluster.stop() }
        let config = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: config, logger: quietLogger)
        defer { producer.close() }
        for index in 0..<10 {
            _ = try await producer.send(topic: "g", key: nil, value: "\(index)".bytes, partition: Int32(index % 2))
        }

        var consumerConfig = KafkaConsumerConfiguration(mode: .group(id: "test-group", topics: ["g"]))
        consumerConfig.commitInterval = .milliseconds(100)
        let consumer = try KafkaConsumer(configuration: config, consumer: consumerConfig, logger: quietLogger)
        let collector = EventCollector()
        consumer.run { collector.append($0) }
        #expect(await eventuallyAsync(timeout: .seconds(20)) { collector.records.count == 10 })
        consumer.close()
        #expect(collector.events.contains { if case .assigned = $0 { true } else { false } })

        let admin = try KafkaAdmin(configuration: config, logger: quietLogger)
        defer { admin.close() }
        let partitions = [KafkaTopicPartition(topic: "g", partition: 0), KafkaTopicPartition(topic: "g", partition: 1)]
        let committed = try admin.committedOffsets(group: "test-group", partitions: partitions)
        #expect(committed == [partitions[0]: 5, partitions[1]: 5])
        let watermarks = try admin.watermarks(topic: "g", partition: 0)
        #expect(watermarks.low == 0 && watermarks.high == 5)
        #expect(try admin.committedOffsets(group: "nobody", partitions: partitions).isEmpty)
    }

    @Test("replayOnFirstAssignment reads from the start despite the group's commits; without it the group resumes")
    func replay() async throws {
        let cluster = try EmbeddedKafka(topics: [.init("r", partitions: 1)], logger: quietLogger)
        defer { cluster.stop() }
        let config = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: config, logger: quietLogger)
        defer { producer.close() }
        for index in 0..<5 { _ = try await producer.send(topic: "r", key: nil, value: "\(index)".bytes) }

        /// Joins the group, waits for an assignment and `count` records, leaves.
        func consume(replay: Bool, expecting count: Int) async throws -> [KafkaRecord]? {
            var settings = KafkaConsumerConfiguration(mode: .group(id: "replay-group", topics: ["r"]))
            settings.commitInterval = .milliseconds(50)
            settings.replayOnFirstAssignment = replay
            // The embedded cluster lets a member that left hold its partitions until its
            // session expires: keep that short so the next member joins quickly.
            settings.sessionTimeout = .seconds(6)
            let consumer = try KafkaConsumer(configuration: config, consumer: settings, logger: quietLogger)
            let collector = EventCollector()
            consumer.run { collector.append($0) }
            let assigned = await eventuallyAsync(timeout: .seconds(20)) {
                collector.events.contains { if case .assigned = $0 { true } else { false } } && collector.records.count >= count
            }
            try? await Task.sleep(for: .milliseconds(300))  // nothing more arrives
            consumer.close()
            return assigned ? collector.records : nil
        }

        #expect(try await consume(replay: false, expecting: 5)?.map(\.offset) == [0, 1, 2, 3, 4])
        // Committed at 5: a plain member reads nothing, a replaying one everything.
        #expect(try await consume(replay: false, expecting: 0)?.isEmpty == true)
        #expect(try await consume(replay: true, expecting: 5)?.map(\.offset) == [0, 1, 2, 3, 4])
    }

    @Test("an unknown librdkafka property is a configuration error naming the key")
    func unknownProperty() throws {
        let config = KafkaConfiguration(bootstrapServers: "127.0.0.1:1", properties: ["no.such.property": "1"])
        #expect {
            _ = try KafkaProducer(configuration: config, logger: quietLogger)
        } throws: { error in
            let error = error as? KafkaError
            return error?.code == .configuration && error?.message.contains("no.such.property") == true
        }
    }

    @Test("a record over message.max.bytes fails at once as messageTooLarge")
    func tooLarge() async throws {
        let cluster = try EmbeddedKafka(topics: [.init("t", partitions: 1)], logger: quietLogger)
        defer { cluster.stop() }
        let config = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, properties: ["message.max.bytes": "2000"])
        let producer = try KafkaProducer(configuration: config, logger: quietLogger)
        defer { producer.close() }
        await #expect(throws: KafkaError.self) {
            _ = try await producer.send(topic: "t", key: nil, value: [UInt8](repeating: 7, count: 10_000))
        }
        do {
            _ = try await producer.send(topic: "t", key: nil, value: [UInt8](repeating: 7, count: 10_000))
        } catch {
            #expect(error.code == .messageTooLarge)
        }
    }

    @Test("with no broker listening, a send ends as brokerUnreachable within message.timeout.ms")
    func unreachable() async throws {
        var producerConfig = KafkaProducerConfiguration()
        producerConfig.messageTimeout = .seconds(1)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: "127.0.0.1:1"), producer: producerConfig, logger: quietLogger)
        defer { producer.close(flushTimeout: .zero) }
        // The outcome's time is taken in the completion, on the producer's own thread, so
        // a busy cooperative pool (other tests) does not distort it.
        let start = ContinuousClock.now
        let (result, elapsed) = await withCheckedContinuation { continuation in
            producer.send(topic: "t", key: nil, value: [1]) { result in
                continuation.resume(returning: (result, ContinuousClock.now - start))
            }
        }
        switch result {
        case .success:
            Issue.record("a send to a closed port succeeded")
        case .failure(let error):
            #expect(error.code == .brokerUnreachable)
        }
        // librdkafka scans for timed-out messages once a second, so a 1 s timeout ends
        // between 1 and 2 s; the rest is slack for a loaded 2-core machine.
        #expect(elapsed >= .seconds(1) && elapsed < .seconds(3), "took \(elapsed)")
    }

    @Test("closing a producer fails nothing that was acknowledged and rejects later sends")
    func closeRejects() async throws {
        let cluster = try EmbeddedKafka(topics: [.init("t", partitions: 1)], logger: quietLogger)
        defer { cluster.stop() }
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        _ = try await producer.send(topic: "t", key: nil, value: [1])
        producer.close()
        do {
            _ = try await producer.send(topic: "t", key: nil, value: [1])
            Issue.record("a send after close succeeded")
        } catch {
            #expect(error.code == .shutdown)
        }
    }

    @Test("a send to a topic name Kafka refuses completes once, as invalidTopic, and close does not complete it again")
    func refusedTopicCompletesOnce() async throws {
        // librdkafka's rd_kafka_topic_new returns NULL for names over 512 bytes: the send
        // used to stay registered as pending *and* complete at once as "closed", so
        // close() completed it a second time (the async send trapped). An empty name
        // librdkafka accepts, and the embedded cluster stored the record under "".
        let cluster = try EmbeddedKafka(topics: [.init("t", partitions: 1)], logger: quietLogger)
        defer { cluster.stop() }
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        let outcomes = Mutex<[Result<KafkaDeliveryReport, KafkaError>]>([])
        let names = ["", String(repeating: "x", count: 600), "..", "a/b", "t\u{0}"]
        for topic in names {
            producer.send(topic: topic, key: nil, value: [1]) { result in outcomes.withLock { $0.append(result) } }
        }
        #expect(producer.inFlight == 0)
        producer.close()
        let seen = outcomes.withLock { $0 }
        #expect(seen.count == names.count)
        for outcome in seen {
            guard case .failure(let error) = outcome else {
                Issue.record("a send to an invalid topic succeeded")
                continue
            }
            #expect(error.code == .invalidTopic, "\(error)")
        }
        // The async form resumes its continuation once (twice would trap).
        let other = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        await #expect(throws: KafkaError.self) { _ = try await other.send(topic: "", key: nil, value: [1]) }
        other.close()
    }

    @Test("closing a producer fails each send still waiting for a broker once, as shutdown")
    func closeFailsPending() throws {
        var settings = KafkaProducerConfiguration()
        settings.messageTimeout = .seconds(60)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: "127.0.0.1:1"), producer: settings, logger: quietLogger)
        let outcomes = Mutex<[Int: [KafkaError.Code]]>([:])
        for index in 0..<3 {
            producer.send(topic: "t", key: nil, value: [UInt8(index)]) { result in
                let code: KafkaError.Code = switch result {
                case .success: .other
                case .failure(let error): error.code
                }
                outcomes.withLock { $0[index, default: []].append(code) }
            }
        }
        #expect(producer.inFlight == 3)
        #expect(outcomes.withLock { $0.isEmpty })
        producer.close(flushTimeout: .zero)
        #expect(outcomes.withLock { $0 } == [0: [.shutdown], 1: [.shutdown], 2: [.shutdown]])
        #expect(producer.inFlight == 0)
    }
}

@Suite("Topic creation")
struct TopicCreationTests {
    @Test("ensureTopics leaves existing topics alone; where the broker cannot create topics it fails within its timeout")
    func ensureTopics() throws {
        let cluster = try EmbeddedKafka(topics: [.init("user-timeline", partitions: 6)], logger: quietLogger)
        defer { cluster.stop() }
        let admin = try KafkaAdmin(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        defer { admin.close() }
        #expect(try admin.ensureTopics([.init("user-timeline", partitions: 6)]) == ["user-timeline": .existed(partitions: 6)])
        // The embedded cluster never answers CreateTopics: the call must end within its
        // timeout with an error, not hang or pretend. (A real cluster creates the topic.)
        do {
            _ = try admin.ensureTopics([.init("new-topic", partitions: 2)], timeout: .seconds(1))
            Issue.record("CreateTopics on the embedded cluster claimed success")
        } catch {
            #expect(error.code == .timedOut)
        }
    }
}

@Suite("Consumer group description")
struct GroupDescriptionTests {
    @Test("where the broker cannot list groups (the embedded cluster) describeGroups says so at once, and the admin client still closes")
    func unsupportedOnEmbedded() throws {
        let cluster = try EmbeddedKafka(topics: [.init("new_users", partitions: 5)], logger: quietLogger)
        defer { cluster.stop() }
        let admin = try KafkaAdmin(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: quietLogger)
        _ = try admin.metadata()
        let started = ContinuousClock.now
        do {
            let groups = try admin.describeGroups(timeout: .seconds(3))
            Issue.record("the embedded cluster described groups: \(groups)")
        } catch {
            #expect(error.code == .unsupported)
        }
        #expect(ContinuousClock.now - started < .seconds(2))
        admin.close()
    }

    @Test("a consumer-protocol assignment decodes to its topic partitions; other bytes do not")
    func decodeAssignment() {
        // version 1, two topics: "new_users" [0, 3], "a" [], then 4 bytes of user data.
        var bytes: [UInt8] = [0, 1, 0, 0, 0, 2]
        bytes += [0, 9] + Array("new_users".utf8) + [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3]
        bytes += [0, 1] + Array("a".utf8) + [0, 0, 0, 0]
        bytes += [0, 0, 0, 4, 1, 2, 3, 4]
        #expect(KafkaGroupDescription.decodeConsumerAssignment(bytes) == [
            KafkaTopicPartition(topic: "new_users", partition: 0), KafkaTopicPartition(topic: "new_users", partition: 3),
        ])
        #expect(KafkaGroupDescription.decodeConsumerAssignment([0, 0, 0, 0, 0, 0]) == [])
        // Truncated in the middle of a partition list, and a negative topic count.
        #expect(KafkaGroupDescription.decodeConsumerAssignment(Array(bytes.prefix(20))) == nil)
        #expect(KafkaGroupDescription.decodeConsumerAssignment([0, 0, 0xff, 0xff, 0xff, 0xff]) == nil)
        #expect(KafkaGroupDescription.decodeConsumerAssignment([]) == nil)
    }
}
