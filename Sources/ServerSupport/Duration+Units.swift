/// The units the C libraries and the reports speak, in one place: librdkafka takes whole
/// milliseconds, libwebsockets microseconds, reports fractional milliseconds or seconds.
extension Duration {
    /// Whole nanoseconds, rounded down, saturating at `Int64`'s bounds.
    public var wholeNanoseconds: Int64 { whole(perSecond: 1_000_000_000) }

    /// Whole microseconds, rounded down, saturating.
    public var wholeMicroseconds: Int64 { whole(perSecond: 1_000_000) }

    /// Whole milliseconds, rounded down, saturating: librdkafka's unit for timeouts.
    public var wholeMilliseconds: Int64 { whole(perSecond: 1000) }

    /// Fractional milliseconds, for latency reports.
    public var inMilliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }

    /// Fractional seconds, for reports and sleeps.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    private func whole(perSecond: Int64) -> Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: perSecond)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (sum, overflowAgain) = scaled.addingReportingOverflow(attoseconds / (1_000_000_000_000_000_000 / perSecond))
        guard !overflowAgain else { return seconds < 0 ? .min : .max }
        return sum
    }
}
