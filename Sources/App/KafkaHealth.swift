import ServerSupport
import Kafka
import Synchronization

/// What the server last learned of the cluster, refreshed every second by a job of its
/// own. `/healthz` and `/api/status` answer from it at once: a health probe never waits
/// on Kafka (with the cluster away a metadata request takes its whole timeout, and twenty
/// probes queued behind each other used to time out).
final class KafkaHealth: Sendable {
    /// One look at the cluster.
    struct Check: Sendable {
        /// The metadata, when the cluster answered.
        var metadata: KafkaClusterMetadata?
        /// Why it did not.
        var error: String?
        /// When the look finished (nil: none yet).
        var checkedAt: ContinuousClock.Instant?
        /// When the cluster last answered.
        var lastAnswerAt: ContinuousClock.Instant?

        /// Why Kafka counts as unavailable by this check, or nil when it answered
        /// recently.
        func unavailableReason(now: ContinuousClock.Instant = .now) -> String? {
            if let error {
                if let lastAnswerAt { return "\(error) (last answer \(Int((now - lastAnswerAt).inSeconds)) s ago)" }
                return error
            }
            guard let checkedAt, now - checkedAt < KafkaHealth.staleAfter else {
                return "no answer from Kafka for over \(Int(KafkaHealth.staleAfter.inSeconds)) s"
            }
            return nil
        }
    }

    /// A check older than this counts as no answer: the checking thread is stuck.
    static let staleAfter: Duration = .seconds(10)

    private let latest = Mutex(Check(metadata: nil, error: "not checked yet", checkedAt: nil, lastAnswerAt: nil))
    /// The latest check.
    var check: Check { latest.withLock { $0 } }

    /// Looks at the cluster once (blocking, up to two seconds): the `kafka-health` job,
    /// every second.
    func refresh(admin: KafkaAdmin) {
        let outcome: Result<KafkaClusterMetadata, KafkaError>
        do throws(KafkaError) {
            outcome = .success(try admin.metadata(timeout: .seconds(2)))
        } catch {
            outcome = .failure(error)
        }
        let now = ContinuousClock.now
        latest.withLock { check in
            check.checkedAt = now
            switch outcome {
            case .success(let metadata):
                check.metadata = metadata
                check.error = nil
                check.lastAnswerAt = now
            case .failure(let error):
                check.error = "Kafka metadata did not answer: \(error.message)"
            }
        }
    }
}
