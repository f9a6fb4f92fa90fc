import ServerSupport
internal import CRdKafka
import Foundation
public import Logging
import Synchronization

/// Reads topics on a thread of its own and hands each event to a handler.
///
/// In group mode a record's offset is stored only after the handler returned for it and
/// committed in the background (at-least-once: after a crash, the records whose handler
/// had not finished are read again). Rebalances are served inside the poll loop, so
/// assignment changes reach the handler in order with the records.
///
/// - Important: call ``close()`` when done: the polling thread keeps the consumer alive.
public final class KafkaConsumer: Sendable {
    public typealias Handler = @Sendable (KafkaConsumerEvent) -> Void

    private let client: RDKafkaClient
    private let configuration: KafkaConsumerConfiguration
    private let logger: Logger
    private let poller = Mutex<Worker?>(nil)

    /// Creates the consumer; nothing is read until ``run(handler:)``.
    /// - Throws: ``KafkaError/Code/configuration`` when librdkafka rejects a property.
    public init(configuration: KafkaConfiguration, consumer: KafkaConsumerConfiguration, logger: Logger) throws(KafkaError) {
        let settings = configuration.dictionary + consumer.dictionary + configuration.passThrough
        let context = RDKafkaClientContext(logger: logger, replayOnFirstAssignment: consumer.replayOnFirstAssignment)
        let client = try RDKafkaClient(type: RD_KAFKA_CONSUMER, settings: settings, context: context) { conf in
            if case .group = consumer.mode {
                rd_kafka_conf_set_rebalance_cb(conf, KafkaConsumer.rebalanceCallback)
            }
        }
        // Serve every event (rebalances, errors) from the consumer queue we poll.
        _ = try? client.use { rd_kafka_poll_set_consumer($0) }
        self.client = client
        self.configuration = consumer
        self.logger = logger
    }

    /// Starts reading: `handler` is called on the consumer's thread, one event at a time.
    /// Call once.
    public func run(handler: @escaping Handler) {
        client.context.handler = handler
        let thread = Worker.once(name: "kafka-consumer") { [self] thread in
            switch configuration.mode {
            case .assignAllFromEarliest(let topics):
                assignAll(topics: topics, from: [:], handler: handler, until: thread)
            case .assignAll(let topics, let offsets):
                assignAll(topics: topics, from: offsets, handler: handler, until: thread)
            case .assignAllCommitting(_, let topics):
                assignAll(topics: topics, from: [:], handler: handler, until: thread)
            case .group(_, let topics):
                let list = RDKafkaTopicPartitionList(topics.map { KafkaTopicPartition(topic: $0, partition: RD_KAFKA_PARTITION_UA) })
                let err = try? client.use { handle in list.withPointer { rd_kafka_subscribe(handle, $0) } }
                if let err, err != RD_KAFKA_RESP_ERR_NO_ERROR { handler(.error(.rdKafka(err, context: "subscribe"))) }
            }
            while !thread.isStopping, (try? client.use({ pollOnce(client: $0, handler: handler) })) != nil {}
        }
        poller.withLock { $0 = thread }
    }

    /// Stops reading and commits what the handler processed (group mode), waiting for
    /// the broker's answer; the consumer stays in its group until ``close()``.
    /// Blocking; idempotent.
    ///
    /// For several members of one group stopping together: call this on each, then
    /// ``close()`` on each. Closed at once, the first member to leave starts a
    /// rebalance, and every later member's final commit fails inside it ("Group
    /// rebalance in progress"): its last records are read again at the next start.
    public func stopReading() {
        poller.withLock { $0 }?.stop()
        switch configuration.mode {
        case .group, .assignAllCommitting:
            _ = try? client.use { Self.commitAndForget(client: $0) }
        case .assignAll, .assignAllFromEarliest:
            break
        }
    }

    /// Commits the stored offsets and waits; once they are committed, forgets them.
    /// librdkafka commits a partition's stored offset again when the partition is
    /// taken away (leaving the group included), and that commit fails, with a warning,
    /// inside the rebalance that other members leaving at the same time start. It
    /// forgets them itself the same way once a partition is unassigned.
    private static func commitAndForget(client: OpaquePointer) {
        // `_NO_OFFSET`: every stored offset is committed already (by the background
        // committer), so forgetting them loses nothing. Any other failure: they stay
        // stored, for close() to try again.
        let err = rd_kafka_commit(client, nil, 0)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET else { return }
        var assignment: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(client, &assignment) == RD_KAFKA_RESP_ERR_NO_ERROR, let assignment else { return }
        defer { rd_kafka_topic_partition_list_destroy(assignment) }
        RDKafkaTopicPartitionList.setOffsets(of: assignment, to: Int64(RD_KAFKA_OFFSET_INVALID))
        _ = rd_kafka_offsets_store(client, assignment)
    }

    /// Stops reading, commits what was processed (group mode), leaves the group and
    /// destroys the client. Blocking; idempotent. The handler may still receive
    /// ``KafkaConsumerEvent/revoked(_:)`` on the calling thread while the group is left.
    public func close() {
        poller.withLock { $0 }?.stop()
        client.close { handle in
            switch configuration.mode {
            case .group, .assignAllCommitting:
                // What the handler processed, committed now rather than at the next
                // interval; closing waits for the commit (bounded by librdkafka's timeouts).
                // After ``stopReading()`` there is nothing new, and librdkafka sends nothing.
                _ = rd_kafka_commit(handle, nil, 1)
            case .assignAll, .assignAllFromEarliest:
                break
            }
            rd_kafka_consumer_close(handle)
        }
        client.context.handler = nil
    }

    private func pollOnce(client: OpaquePointer, handler: Handler) {
        guard let message = rd_kafka_consumer_poll(client, 100) else { return }
        defer { rd_kafka_message_destroy(message) }
        let err = message.pointee.err
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            if err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                if let topic = message.pointee.rkt {
                    handler(.endOfPartition(KafkaTopicPartition(topic: String(cString: rd_kafka_topic_name(topic)), partition: message.pointee.partition)))
                }
            } else {
                handler(.error(.rdKafka(err, context: "consume")))
            }
            return
        }
        handler(.record(Self.record(from: message)))
        switch configuration.mode {
        case .group, .assignAllCommitting:
            _ = rd_kafka_offset_store(message.pointee.rkt, message.pointee.partition, message.pointee.offset)
        case .assignAll, .assignAllFromEarliest:
            break
        }
    }

    /// Without a group: find every partition of `topics` and read each from its offset
    /// in `offsets`, or the start. Retries until the topics exist or the consumer stops.
    private func assignAll(topics: [String], from offsets: [KafkaTopicPartition: Int64], handler: Handler, until thread: Worker) {
        while !thread.isStopping {
            do throws(KafkaError) {
                guard let metadata = try client.use({ handle throws(KafkaError) in try KafkaClusterMetadata.fetch(client: handle, timeout: .seconds(2)) }) else { return }
                var partitions: [KafkaTopicPartition] = []
                for topic in topics {
                    guard let found = metadata.topics.first(where: { $0.name == topic }), found.partitionCount > 0 else {
                        throw KafkaError(.unknownTopic, "topic \(topic) not found")
                    }
                    partitions += (0..<Int32(found.partitionCount)).map { KafkaTopicPartition(topic: topic, partition: $0) }
                }
                let list = RDKafkaTopicPartitionList(partitions, offset: Int64(RD_KAFKA_OFFSET_BEGINNING))
                list.withPointer { pointer in
                    for (partition, offset) in offsets {
                        RDKafkaTopicPartitionList.setOffsets(of: pointer, to: offset, where: [partition])
                    }
                }
                guard let err = try client.use({ handle in list.withPointer { rd_kafka_assign(handle, $0) } }) else { return }
                if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    handler(.assigned(partitions))
                    return
                }
                handler(.error(.rdKafka(err, context: "assign")))
            } catch {
                handler(.error(error))
            }
            thread.sleep(for: .milliseconds(500))
        }
    }

    static func record(from message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaRecord {
        let m = message.pointee
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &type)
        return KafkaRecord(
            topic: String(cString: rd_kafka_topic_name(m.rkt)),
            partition: m.partition,
            offset: m.offset,
            key: key,
            value: value,
            timestampMilliseconds: type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
        )
    }

    /// The group's rebalance callback. Called on the consumer's polling thread (inside
    /// `rd_kafka_consumer_poll`) or on the thread calling ``close()``.
    static let rebalanceCallback: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = { client, err, partitions, _ in
        guard let client, let partitions else { return }
        let cooperative = String(cString: rd_kafka_rebalance_protocol(client)) == "COOPERATIVE"
        let changed = RDKafkaTopicPartitionList.partitions(of: partitions)
        let context = RDKafkaClientContext.of(client)
        let handler = context?.handler
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            if let context, context.replayOnFirstAssignment {
                let firstTime = context.firstAssignments(of: changed)
                RDKafkaTopicPartitionList.setOffsets(of: partitions, to: Int64(RD_KAFKA_OFFSET_BEGINNING), where: firstTime)
            }
            if cooperative {
                if let error = rd_kafka_incremental_assign(client, partitions) { rd_kafka_error_destroy(error) }
            } else {
                rd_kafka_assign(client, partitions)
            }
            handler?(.assigned(changed))
        default:
            // Revoked or lost: processed offsets are committed by the background
            // committer before librdkafka hands the partitions to another member.
            handler?(.revoked(changed))
            if cooperative {
                if let error = rd_kafka_incremental_unassign(client, partitions) { rd_kafka_error_destroy(error) }
            } else {
                rd_kafka_assign(client, nil)
            }
        }
    }
}
