import App
import ArgumentParser
import Kafka

/// The posts' topic, for a cluster whose `user-timeline` is named or sized otherwise:
/// shared by `serve` and `print-topics`, so the two always agree.
struct TimelineTopicOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The topic posts go to and timelines are rebuilt from.", valueName: "name"))
    var timelineTopic: String = Topics.userTimeline.name

    @Option(help: ArgumentHelp("That topic's partition count (the topic check at start says when the cluster's differs).", valueName: "count"))
    var timelinePartitions: Int = Topics.userTimeline.partitions

    func validate() throws {
        // Kafka's own rule for topic names.
        let allowed = timelineTopic.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-")].contains(byte)
        }
        guard (1...249).contains(timelineTopic.utf8.count), allowed, timelineTopic != ".", timelineTopic != ".." else {
            throw ValidationError("--timeline-topic must be 1 to 249 letters, digits and . _ - (Kafka's rule for topic names)")
        }
        guard (1...1000).contains(timelinePartitions) else { throw ValidationError("--timeline-partitions must be 1...1000") }
    }

    var spec: KafkaTopicSpec { KafkaTopicSpec(timelineTopic, partitions: timelinePartitions) }
}
