import Testing
import Timeline

@Suite("murmur2, as Kafka's Java client partitions")
struct Murmur2Tests {
    /// (key, hash, partition of 6): computed with kafka-python 2.0.2's
    /// `kafka.partitioner.default.murmur2`, an implementation independent of ours.
    static let reference: [(String, UInt32, Int)] = [
        ("", 275_646_681, 3), ("a", 2_731_586_172, 4), ("ab", 316_155_434, 2), ("abc", 479_470_107, 3),
        ("abcd", 2_971_317_748, 2), ("alice", 1_951_417_749, 3), ("bob", 2_246_822_606, 0),
        ("carol", 271_431_602, 2), ("user-12345", 4_051_476_243, 1), ("héllo", 614_509_002, 0),
        ("x@y.org", 3_487_051_705, 5),
    ]

    @Test("hashes and partitions match kafka-python's", arguments: reference)
    func matches(key: String, hash: UInt32, partition: Int) {
        #expect(Murmur2.hash(Array(key.utf8)) == hash)
        #expect(Murmur2.partition(for: key, partitionCount: 6) == partition)
    }
}
