import Foundation

/// The current Unix second.
func currentSecond() -> Int64 {
    Int64(Date().timeIntervalSince1970)
}

/// Milliseconds since the epoch.
func currentMilliseconds() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1000)
}
