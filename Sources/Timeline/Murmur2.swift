/// Kafka's murmur2 partitioner: the partition the Java client (and kafka-python, and
/// librdkafka's `murmur2_random`) picks for a key. Used to show which partition a key
/// belongs to, and to check that records landed there.
public enum Murmur2 {
    /// The 32-bit murmur2 hash with Kafka's seed.
    public static func hash(_ bytes: some Collection<UInt8>) -> UInt32 {
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        let length = bytes.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
        var iterator = bytes.makeIterator()
        var remaining = length
        while remaining >= 4 {
            var k = UInt32(iterator.next() ?? 0)
            k |= UInt32(iterator.next() ?? 0) << 8
            k |= UInt32(iterator.next() ?? 0) << 16
            k |= UInt32(iterator.next() ?? 0) << 24
            k &*= m
            k ^= k >> r
            k &*= m
            h &*= m
            h ^= k
            remaining -= 4
        }
        var tail: [UInt32] = []
        while let byte = iterator.next() { tail.append(UInt32(byte)) }
        switch tail.count {
        case 3:
            h ^= tail[2] << 16
            fallthrough
        case 2:
            h ^= tail[1] << 8
            fallthrough
        case 1:
            h ^= tail[0]
            h &*= m
        default:
            break
        }
        h ^= h >> 13
        h &*= m
        h ^= h >> 15
        return h
    }

    /// The partition of `key` among `partitionCount` partitions:
    /// `(murmur2(key) & 0x7fffffff) % partitionCount`.
    public static func partition(for key: String, partitionCount: Int) -> Int {
        guard partitionCount > 0 else { return 0 }
        return Int(hash(Array(key.utf8)) & 0x7fff_ffff) % partitionCount
    }
}
