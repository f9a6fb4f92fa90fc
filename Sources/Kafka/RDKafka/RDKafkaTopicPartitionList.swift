internal import CRdKafka

/// Owns an `rd_kafka_topic_partition_list_t` and frees it in `deinit`; C code borrows it
/// only inside ``withPointer(_:)``.
final class RDKafkaTopicPartitionList {
    private let list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    init(_ partitions: [KafkaTopicPartition], offset: Int64? = nil) {
        list = rd_kafka_topic_partition_list_new(Int32(clamping: partitions.count))
        for tp in partitions {
            let element = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)
            if let offset { element?.pointee.offset = offset }
        }
    }

    deinit { rd_kafka_topic_partition_list_destroy(list) }

    func withPointer<R>(_ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> R) rethrows -> R {
        try body(list)
    }

    /// Each element with its offset (`RD_KAFKA_OFFSET_INVALID` where there is none).
    var offsets: [(KafkaTopicPartition, Int64)] {
        Self.elements(of: list).map { ($0.0, $0.1) }
    }

    /// Sets the offset of the elements of `list` that are in `partitions`, or of every
    /// element when `partitions` is nil.
    static func setOffsets(of list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>, to offset: Int64, where partitions: Set<KafkaTopicPartition>? = nil) {
        let count = Int(list.pointee.cnt)
        guard count > 0, let elements = list.pointee.elems else { return }
        for index in 0..<count {
            if let partitions {
                let tp = KafkaTopicPartition(topic: String(cString: elements[index].topic), partition: elements[index].partition)
                guard partitions.contains(tp) else { continue }
            }
            elements[index].offset = offset
        }
    }

    static func partitions(of list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [KafkaTopicPartition] {
        elements(of: list).map(\.0)
    }

    private static func elements(of list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [(KafkaTopicPartition, Int64)] {
        let count = Int(list.pointee.cnt)
        guard count > 0, let elements = list.pointee.elems else { return [] }
        return (0..<count).map { index in
            let element = elements[index]
            return (KafkaTopicPartition(topic: String(cString: element.topic), partition: element.partition), element.offset)
        }
    }
}
