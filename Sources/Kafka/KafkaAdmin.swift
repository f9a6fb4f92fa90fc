import ServerSupport
internal import CRdKafka
public import Logging
import Synchronization

/// Questions about the cluster: metadata, watermarks, consumer groups and their
/// committed offsets.
///
/// Every method blocks for up to its timeout: call them from a thread or dispatch queue
/// you own, never from Swift's cooperative pool or the HTTP service thread.
public final class KafkaAdmin: Sendable {
    private let configuration: KafkaConfiguration
    private let logger: Logger
    private let client: RDKafkaClient
    /// One consumer-type client per group whose offsets were asked for; they never join
    /// the group, they only fetch its committed offsets.
    private let groupClients = Mutex<[String: RDKafkaClient]>([:])

    /// - Throws: ``KafkaError/Code/configuration`` when librdkafka rejects a property.
    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        self.configuration = configuration
        self.logger = logger
        let settings = configuration.dictionary + configuration.passThrough
        self.client = try RDKafkaClient(type: RD_KAFKA_PRODUCER, settings: settings, context: RDKafkaClientContext(logger: logger))
    }

    /// Brokers and topics, as the cluster answers now.
    public func metadata(timeout: Duration = .seconds(2)) throws(KafkaError) -> KafkaClusterMetadata {
        try using { handle throws(KafkaError) in try KafkaClusterMetadata.fetch(client: handle, timeout: timeout) }
    }

    /// Runs `body` while the client cannot be destroyed under it.
    private func using<R>(_ body: (OpaquePointer) throws(KafkaError) -> R) throws(KafkaError) -> R {
        guard let result = try client.use(body) else { throw KafkaError(.shutdown, "the admin client is closed") }
        return result
    }

    /// The low and high watermarks (first offset, next offset to be written).
    public func watermarks(topic: String, partition: Int32, timeout: Duration = .seconds(2)) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = 0
        var high: Int64 = 0
        let err = try using { handle throws(KafkaError) in
            rd_kafka_query_watermark_offsets(handle, topic, partition, &low, &high, Int32(clamping: timeout.wholeMilliseconds))
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdKafka(err, context: "watermarks of \(topic)[\(partition)]") }
        return (low, high)
    }

    /// The watermarks of partitions 0..<`partitionCount` of `topic`, by partition.
    /// - Throws: the first partition's error.
    public func watermarks(topic: String, partitionCount: Int, timeout: Duration = .seconds(2)) throws(KafkaError) -> [Int32: (low: Int64, high: Int64)] {
        var marks: [Int32: (low: Int64, high: Int64)] = [:]
        for partition in 0..<Int32(clamping: partitionCount) {
            marks[partition] = try watermarks(topic: topic, partition: partition, timeout: timeout)
        }
        return marks
    }

    /// The offsets `group` committed for `partitions` (the next offset it will read);
    /// partitions without a commit are left out.
    public func committedOffsets(group: String, partitions: [KafkaTopicPartition], timeout: Duration = .seconds(2)) throws(KafkaError) -> [KafkaTopicPartition: Int64] {
        let list = RDKafkaTopicPartitionList(partitions)
        let err = try using { _ throws(KafkaError) in
            let groupClient = try groupClient(group)
            let err = try groupClient.use { handle throws(KafkaError) in
                list.withPointer { rd_kafka_committed(handle, $0, Int32(clamping: timeout.wholeMilliseconds)) }
            }
            return err ?? RD_KAFKA_RESP_ERR__DESTROY
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdKafka(err, context: "committed offsets of \(group)") }
        var result: [KafkaTopicPartition: Int64] = [:]
        for (partition, offset) in list.offsets where offset >= 0 {
            result[partition] = offset
        }
        return result
    }

    /// Every consumer group the brokers know, described by its coordinator (ListGroups,
    /// then DescribeGroups on each broker). One call covers all groups, so a monitor that
    /// asks every second costs one round trip per broker. When some brokers did not
    /// answer in time the listing says it is not complete rather than failing.
    /// - Throws: ``KafkaError/Code/unsupported`` when the brokers cannot list groups (the
    ///   embedded cluster), ``KafkaError/Code/timedOut`` when no broker answered in time.
    public func describeGroups(timeout: Duration = .seconds(1)) throws(KafkaError) -> KafkaGroupListing {
        var list: UnsafePointer<rd_kafka_group_list>?
        let err = try using { handle throws(KafkaError) in
            rd_kafka_list_groups(handle, nil, &list, Int32(clamping: timeout.wholeMilliseconds))
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__PARTIAL, let list else {
            throw .rdKafka(err, context: "describe consumer groups")
        }
        defer { rd_kafka_group_list_destroy(list) }
        let groups = list.pointee
        var listing = KafkaGroupListing(groups: [], complete: err == RD_KAFKA_RESP_ERR_NO_ERROR)
        for index in 0..<Int(max(0, groups.group_cnt)) {
            guard let info = groups.groups?[index] else { continue }
            if info.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                listing.groups.append(KafkaGroupDescription(info))
            } else if let name = info.group {
                listing.failed.insert(String(cString: name))
            }
        }
        return listing
    }

    /// Waits for calls in progress (each bounded by its timeout), then destroys every
    /// client. Later calls fail with ``KafkaError/Code/shutdown``. Idempotent.
    public func close() {
        client.close { _ in
            let groups = groupClients.withLock { clients in
                defer { clients = [:] }
                return Array(clients.values)
            }
            for group in groups { group.close() }
        }
    }

    private func groupClient(_ group: String) throws(KafkaError) -> RDKafkaClient {
        try groupClients.withLock { clients throws(KafkaError) -> RDKafkaClient in
            if let client = clients[group] { return client }
            let settings = configuration.dictionary + [("group.id", group), ("enable.auto.commit", "false")] + configuration.passThrough
            let client = try RDKafkaClient(type: RD_KAFKA_CONSUMER, settings: settings, context: RDKafkaClientContext(logger: logger))
            clients[group] = client
            return client
        }
    }
}

extension KafkaAdmin {
    /// What ``ensureTopics(_:timeout:)`` did for one topic.
    public enum TopicOutcome: Sendable, Equatable {
        case existed(partitions: Int)
        case created
        /// The broker refused to create it (not allowed, invalid settings…): its reason.
        case refused(String)
    }

    /// Creates the topics that do not exist yet (CreateTopics), with a replication factor
    /// of up to 3 (fewer on smaller clusters). Existing topics are left as they are, even
    /// with another partition count: the caller decides whether that matters.
    /// A topic the broker refuses to create is `.refused`, with its reason.
    /// - Throws: when the request as a whole fails, e.g. a broker that does not answer
    ///   CreateTopics.
    public func ensureTopics(_ topics: [KafkaTopicSpec], timeout: Duration = .seconds(10)) throws(KafkaError) -> [String: TopicOutcome] {
        let metadata = try self.metadata(timeout: timeout)
        var outcomes: [String: TopicOutcome] = [:]
        var missing: [KafkaTopicSpec] = []
        for topic in topics {
            if let partitions = metadata.partitionCount(of: topic.name) {
                outcomes[topic.name] = .existed(partitions: partitions)
            } else {
                missing.append(topic)
            }
        }
        guard !missing.isEmpty else { return outcomes }
        let replication = Int32(max(1, min(3, metadata.brokers.count)))
        let refusals = try using { handle throws(KafkaError) in try Self.createTopics(missing, replicationFactor: replication, timeout: timeout, client: handle) }
        for topic in missing { outcomes[topic.name] = refusals[topic.name].map(TopicOutcome.refused) ?? .created }
        return outcomes
    }

    /// Returns the topics the broker refused, with its reason; the others were created.
    private static func createTopics(
        _ topics: [KafkaTopicSpec], replicationFactor: Int32, timeout: Duration, client: OpaquePointer
    ) throws(KafkaError) -> [String: String] {
        var errorBuffer = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for topic in topics {
            guard let newTopic = rd_kafka_NewTopic_new(topic.name, Int32(clamping: topic.partitions), replicationFactor, &errorBuffer, errorBuffer.count) else {
                throw KafkaError(.configuration, "topic \(topic.name): \(String(errorBuffer: errorBuffer))")
            }
            newTopics.append(newTopic)
            for (key, value) in topic.config.sorted(by: { $0.key < $1.key }) {
                let err = rd_kafka_NewTopic_set_config(newTopic, key, value)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw .rdKafka(err, context: "topic \(topic.name) config \(key)") }
            }
        }
        let event = try adminRequest(RD_KAFKA_ADMIN_OP_CREATETOPICS, "CreateTopics", timeout: timeout, client: client) { options, queue in
            newTopics.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_CreateTopics(client, buffer.baseAddress, buffer.count, options, queue)
            }
        }
        defer { rd_kafka_event_destroy(event) }
        guard let result = rd_kafka_event_CreateTopics_result(event) else { throw KafkaError(.other, "CreateTopics: no result") }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return [:] }
        var refused: [String: String] = [:]
        for index in 0..<count {
            guard let topicResult = results[index] else { continue }
            let err = rd_kafka_topic_result_error(topicResult)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { continue }
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            let message = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? ""
            refused[name] = KafkaError(KafkaError.code(for: err), message, rdKafkaCode: err.rawValue).description
        }
        return refused
    }
}

extension KafkaAdmin {
    /// Each topic's settings as the brokers report them (DescribeConfigs): every entry,
    /// defaults included, so `cleanup.policy` is there whether or not it was set; and
    /// the topics the brokers would not describe (not allowed…), with their reason.
    /// - Throws: when the brokers cannot describe configurations (librdkafka's embedded
    ///   cluster cannot) or do not answer within `timeout`.
    public func topicConfigs(
        _ names: [String], timeout: Duration = .seconds(5)
    ) throws(KafkaError) -> (configs: [String: [String: String]], refused: [String: String]) {
        guard !names.isEmpty else { return ([:], [:]) }
        return try using { client throws(KafkaError) in
            var resources: [OpaquePointer?] = names.map { rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, $0) }
            defer { for resource in resources { rd_kafka_ConfigResource_destroy(resource) } }
            let event = try Self.adminRequest(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, "DescribeConfigs", timeout: timeout, client: client) { options, queue in
                resources.withUnsafeMutableBufferPointer { buffer in
                    rd_kafka_DescribeConfigs(client, buffer.baseAddress, buffer.count, options, queue)
                }
            }
            defer { rd_kafka_event_destroy(event) }
            guard let result = rd_kafka_event_DescribeConfigs_result(event) else { throw KafkaError(.other, "DescribeConfigs: no result") }
            var count = 0
            guard let described = rd_kafka_DescribeConfigs_result_resources(result, &count) else { return ([:], [:]) }
            var configs: [String: [String: String]] = [:]
            var refused: [String: String] = [:]
            for index in 0..<count {
                guard let resource = described[index] else { continue }
                let err = rd_kafka_ConfigResource_error(resource)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    let message = rd_kafka_ConfigResource_error_string(resource).map { String(cString: $0) } ?? ""
                    refused[String(cString: rd_kafka_ConfigResource_name(resource))] = KafkaError(KafkaError.code(for: err), message, rdKafkaCode: err.rawValue).description
                    continue
                }
                var entryCount = 0
                guard let entries = rd_kafka_ConfigResource_configs(resource, &entryCount) else { continue }
                var settings: [String: String] = [:]
                for entryIndex in 0..<entryCount {
                    guard let entry = entries[entryIndex], let name = rd_kafka_ConfigEntry_name(entry) else { continue }
                    settings[String(cString: name)] = rd_kafka_ConfigEntry_value(entry).map { String(cString: $0) }
                }
                configs[String(cString: rd_kafka_ConfigResource_name(resource))] = settings
            }
            return (configs, refused)
        }
    }

    /// Runs one admin request on a queue of its own and waits for its result event
    /// (which the caller destroys), up to `timeout` plus a second.
    /// - Throws: when no answer came, or the request as a whole failed.
    private static func adminRequest(
        _ operation: rd_kafka_admin_op_t, _ name: String, timeout: Duration, client: OpaquePointer,
        start: (OpaquePointer?, OpaquePointer) -> Void
    ) throws(KafkaError) -> OpaquePointer {
        guard let queue = rd_kafka_queue_new(client) else { throw KafkaError(.other, "rd_kafka_queue_new failed") }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(client, operation)
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errorBuffer = [CChar](repeating: 0, count: 512)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, Int32(clamping: timeout.wholeMilliseconds), &errorBuffer, errorBuffer.count)
        if operation == RD_KAFKA_ADMIN_OP_CREATETOPICS {
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, Int32(clamping: timeout.wholeMilliseconds), &errorBuffer, errorBuffer.count)
        }
        start(options, queue)
        guard let event = rd_kafka_queue_poll(queue, Int32(clamping: timeout.wholeMilliseconds + 1000)) else {
            throw KafkaError(.timedOut, "\(name) got no answer")
        }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            let message = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
            rd_kafka_event_destroy(event)
            throw KafkaError(KafkaError.code(for: eventError), "\(name): \(message)", rdKafkaCode: eventError.rawValue)
        }
        return event
    }
}
