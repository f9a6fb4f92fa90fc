public import NIOCore

/// Apache Kafka refuses a record without a key on a compacted topic (`INVALID_RECORD`,
/// "Compacted topic cannot accept message without key"); the embedded cluster stores it.
/// The gateway refuses it instead, so a student who forgets the key on `team_stats` gets
/// the error a real cluster gives.
///
/// Only the offending partitions are refused, as a broker does: their records are
/// replaced, before the request goes up, by a batch header the embedded cluster refuses
/// without storing anything, and their answers rewritten to `INVALID_RECORD`; the rest of
/// the request is served. Batches it cannot read without decompressing pass unchanged.
/// A record refused for a missing key on a compacted topic: what the board is told.
public struct RefusedRecord: Sendable {
    public var topic: String
    public var value: [UInt8]
    /// The producer's timestamp (ms).
    public var timestamp: Int64
}

public enum CompactedTopicGuard {
    public static let invalidRecord: Int16 = 87
    /// Errors the embedded cluster gives before looking at records: kept, so the client
    /// refreshes its metadata first, as with a real broker.
    static let keptErrors: Set<Int16> = [3, 6]  // UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER
    /// Keyless values kept per request for the board, and their largest size.
    static let maxReportedValues = 64
    static let maxReportedValueBytes = 64 * 1024

    /// A partition of a Produce request refused: its place in the request (topic and
    /// partition position, the order the response follows).
    public struct Position: Hashable, Sendable {
        public var topic: Int
        public var partition: Int

        public init(topic: Int, partition: Int) {
            self.topic = topic
            self.partition = partition
        }
    }

    public struct Refusal {
        /// The request to send up instead, refused partitions' records replaced.
        public var request: ByteBuffer
        public var positions: Set<Position>
        /// The keyless records' topic, value and timestamp (ms, the producer's), for the board.
        public var records: [RefusedRecord]
    }

    /// The refusal for a Produce request `frame` (header included) when it carries a
    /// keyless record to one of `compacted`; nil when it carries none, or is not one
    /// the guard reads (the request validator has checked the layout already).
    public static func refusal(frame: ByteBuffer, header: KafkaRequestHeader, body: ByteBuffer, compacted: Set<String>) -> Refusal? {
        guard header.apiKey == APIKey.produce, (3...7).contains(header.apiVersion), !compacted.isEmpty else { return nil }
        var body = body
        guard body.readKafkaNullableString() != nil, body.skipKafka(6),  // transactional id, acks, timeout
              let topics = body.readKafkaArrayCount(minimumElementSize: 6),
              let front = frame.getSlice(at: frame.readerIndex, length: frame.readableBytes - body.readableBytes)
        else { return nil }
        // The header and everything up to the topics' count go up as they came.
        var out = ByteBufferAllocator().buffer(capacity: frame.readableBytes)
        out.writeImmutableBuffer(front)
        var positions = Set<Position>()
        var records: [RefusedRecord] = []
        for topicIndex in 0..<topics {
            guard let name = body.readKafkaString(), let partitions = body.readKafkaArrayCount(minimumElementSize: 8) else { return nil }
            out.writeKafkaString(name)
            out.writeInteger(Int32(partitions))
            for partitionIndex in 0..<partitions {
                guard let index = body.readInteger(as: Int32.self), let bytes = body.readKafkaBytes() else { return nil }
                out.writeInteger(index)
                if compacted.contains(name), let batches = bytes, let keyless = keylessValues(batches), !keyless.isEmpty {
                    positions.insert(Position(topic: topicIndex, partition: partitionIndex))
                    for record in keyless where records.count < maxReportedValues { records.append(RefusedRecord(topic: name, value: record.value, timestamp: record.timestamp)) }
                    // A batch header of magic 0 in their place: the embedded cluster answers
                    // UNSUPPORTED_VERSION and stores nothing (empty records would make it
                    // abort, see RequestValidator.Field.records).
                    out.writeInteger(Int32(RequestValidator.minimumRecordsBytes))
                    out.writeRepeatingByte(0, count: RequestValidator.minimumRecordsBytes)
                } else if var bytes {
                    out.writeInteger(Int32(bytes.readableBytes))
                    out.writeBuffer(&bytes)
                } else {
                    out.writeInteger(Int32(-1))
                }
            }
        }
        guard !positions.isEmpty else { return nil }
        return Refusal(request: out, positions: positions, records: records)
    }

    /// The values and timestamps of records without a key in `batches` (record batches,
    /// magic 2), empty when every record has a key; nil when the batches cannot be read
    /// without decompressing (compressed, an older format) or are malformed: those pass.
    public static func keylessValues(_ batches: ByteBuffer) -> [(value: [UInt8], timestamp: Int64)]? {
        var batches = batches
        var values: [(value: [UInt8], timestamp: Int64)] = []
        while batches.readableBytes > 0 {
            // baseOffset, batchLength, then the batch.
            guard batches.skipKafka(8), let length = batches.readInteger(as: Int32.self), length >= 49,
                  var batch = batches.readSlice(length: Int(length))
            else { return nil }
            // partitionLeaderEpoch, magic, crc, attributes, lastOffsetDelta, first and max
            // timestamps, producer id and epoch, base sequence, record count.
            guard batch.skipKafka(4), batch.readInteger(as: Int8.self) == 2, batch.skipKafka(4),
                  let attributes = batch.readInteger(as: Int16.self), attributes & 0x7 == 0,
                  batch.skipKafka(4), let firstTimestamp = batch.readInteger(as: Int64.self),
                  batch.skipKafka(8 + 8 + 2 + 4), let count = batch.readInteger(as: Int32.self),
                  count >= 0, Int(count) <= batch.readableBytes
            else { return nil }
            for _ in 0..<count {
                guard let recordLength = batch.readVarint(), recordLength >= 0, var record = batch.readSlice(length: Int(recordLength)),
                      record.skipKafka(1), let timestampDelta = record.readVarint(), record.readVarint() != nil,  // attributes, deltas
                      let keyLength = record.readVarint()
                else { return nil }
                // The producer's clock, as forged as any field: no overflow.
                let (timestamp, overflow) = firstTimestamp.addingReportingOverflow(timestampDelta)
                guard keyLength < 0 else {
                    guard record.skipKafka(Int(keyLength)) else { return nil }
                    continue
                }
                guard let valueLength = record.readVarint() else { return nil }
                let value = valueLength > 0 && valueLength <= maxReportedValueBytes ? record.readBytes(length: Int(valueLength)) : nil
                values.append((value ?? [], overflow ? firstTimestamp : timestamp))
            }
        }
        return values
    }

    /// `response` (a Produce response of `version`) with the refused partitions' errors
    /// set to `INVALID_RECORD` and their offsets to −1. Unchanged when it does not read
    /// as one.
    public static func refuse(_ positions: Set<Position>, in response: ByteBuffer, version: Int16) -> ByteBuffer {
        var out = response
        var reader = response
        // One partition's answer as the embedded cluster writes it: index, error, base
        // offset, the log append time from v2 and the log start offset from v6 (Kafka's
        // own layout has that from v5; the gateway fronts only the embedded cluster).
        let entrySize = 14 + (version >= 2 ? 8 : 0) + (version >= 6 ? 8 : 0)
        guard reader.skipKafka(4), let topics = reader.readKafkaArrayCount(minimumElementSize: 6) else { return response }
        for topicIndex in 0..<topics {
            guard reader.readKafkaString() != nil, let partitions = reader.readKafkaArrayCount(minimumElementSize: entrySize) else { return response }
            for partitionIndex in 0..<partitions {
                let start = reader.readerIndex
                guard reader.skipKafka(4), let error = reader.readInteger(as: Int16.self), reader.skipKafka(entrySize - 6) else { return response }
                guard positions.contains(Position(topic: topicIndex, partition: partitionIndex)), !keptErrors.contains(error) else { continue }
                out.setInteger(invalidRecord, at: start + 4)
                for offset in stride(from: start + 6, to: start + entrySize, by: 8) { out.setInteger(Int64(-1), at: offset) }
            }
        }
        return out
    }
}

extension ByteBuffer {
    /// A zig-zag varint or varlong as record batches use them (at most 10 bytes); nil
    /// when malformed or cut short.
    mutating func readVarint() -> Int64? {
        var raw: UInt64 = 0
        for shift in stride(from: UInt64(0), to: 70, by: 7) {
            guard let byte = readInteger(as: UInt8.self) else { return nil }
            raw |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1) }
        }
        return nil
    }
}
