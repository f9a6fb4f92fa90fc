import Foundation
import Timeline

extension TimelineService {
    func orderingReport() -> OrderingReport {
        let (counters, users, flagged, recent) = state.withLock { state in
            (state.counters, state.users.count, state.users.values.reduce(0) { $0 + ($1.violations > 0 ? 1 : 0) }, state.recentViolations)
        }
        let log = malformed.withLock { $0 }
        return OrderingReport(
            counters: counters, violations: counters.violations, users: users, usersWithViolations: flagged,
            recentViolations: recent.reversed(),
            malformed: .init(
                count: log.count,
                byReason: Dictionary(uniqueKeysWithValues: log.byReason.map { ($0.key.rawValue, $0.value) }),
                recent: log.recent
            ),
            rereads: rereads.withLock { $0 }
        )
    }

    func throughputReport(now second: Int64, seconds: Int = 300) -> ThroughputReport {
        let produced = self.produced.withLock { ($0.series(endingAt: second, seconds: seconds), $0.rate(endingBefore: second)) }
        let consumed = self.consumed.withLock { ($0.series(endingAt: second, seconds: seconds), $0.rate(endingBefore: second)) }
        return ThroughputReport(
            windowSeconds: seconds, now: second, produced: produced.0, consumed: consumed.0,
            producedPerSecond: produced.1, consumedPerSecond: consumed.1
        )
    }

    func partitionReport(now second: Int64) -> PartitionReport {
        analyzer.withLock { $0.report(at: second) }
    }

    func messagesSnapshot() -> MessagesSnapshot {
        let consumedCount = state.withLock { $0.counters.checked }
        return MessagesSnapshot(messages: recent.snapshot, consumed: consumedCount, malformed: malformed.withLock { $0.count })
    }
}

/// The current Unix second.
func currentSecond() -> Int64 {
    Int64(Date().timeIntervalSince1970)
}

/// Milliseconds since the epoch.
func currentMilliseconds() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1000)
}
