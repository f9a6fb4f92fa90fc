import Foundation

/// The current Unix second: what the timelines and the board stamp and bucket by (a
/// person's clock, unlike `ContinuousClock`, which times intervals).
public func currentSecond() -> Int64 {
    Int64(Date().timeIntervalSince1970)
}

/// Milliseconds since the epoch.
public func currentMilliseconds() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1000)
}
