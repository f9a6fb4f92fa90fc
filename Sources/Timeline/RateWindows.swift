/// Counts per second in 1-second tumbling windows over the last few minutes.
///
/// Seconds are whole Unix seconds; counts recorded for a second older than the window
/// are dropped. A plain value; the app keeps it behind a lock.
public struct RateWindows: Sendable {
    /// Seconds kept. Default: 300 (5 minutes).
    public let length: Int
    private var counts: [Int]
    private var seconds: [Int64]

    public init(length: Int = 300) {
        self.length = max(1, length)
        counts = Array(repeating: 0, count: self.length)
        seconds = Array(repeating: Int64.min, count: self.length)
    }

    /// Adds `count` events in `second`.
    public mutating func record(_ count: Int = 1, at second: Int64) {
        let slot = Int(((second % Int64(length)) + Int64(length)) % Int64(length))
        if seconds[slot] != second {
            guard second > seconds[slot] else { return }  // older than the window
            seconds[slot] = second
            counts[slot] = 0
        }
        counts[slot] += count
    }

    /// The count of each second from `now - seconds + 1` to `now`, oldest first.
    public func series(endingAt now: Int64, seconds count: Int) -> [Int] {
        let count = min(max(0, count), length)
        return (0..<count).map { back in
            let second = now - Int64(count - 1 - back)
            let slot = Int(((second % Int64(length)) + Int64(length)) % Int64(length))
            return seconds[slot] == second ? counts[slot] : 0
        }
    }

    /// Average events per second over the `seconds` whole seconds before `now`
    /// (the current, incomplete second left out).
    public func rate(endingBefore now: Int64, seconds count: Int = 5) -> Double {
        let values = series(endingAt: now - 1, seconds: count)
        guard !values.isEmpty else { return 0 }
        return Double(values.reduce(0, +)) / Double(values.count)
    }
}
