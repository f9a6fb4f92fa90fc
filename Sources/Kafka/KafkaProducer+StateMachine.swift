import ServerSupport

extension KafkaProducer {
    /// Every send the producer has taken and not yet completed, its polling worker and
    /// the closed flag, as one value behind one lock.
    ///
    /// Each event returns what to do and hands out a completion at most once (it leaves
    /// `pending` when handed out), so no path can complete a send twice: not a refused
    /// topic, not a failed produce, not a report racing `close()`. The caller runs what is
    /// returned after releasing the lock.
    struct StateMachine: ~Copyable {
        /// What `send` should do next.
        enum SendAction {
            /// Hand the record to librdkafka with `id` as its opaque.
            case produce(id: UInt)
            /// Complete with this error now; nothing was registered.
            case fail(KafkaError)
        }

        private var nextID: UInt = 1
        private var pending: [UInt: Completion] = [:]
        private var closed = false
        /// The thread serving delivery reports.
        var poller: Worker?
        /// Whether librdkafka last said that every broker is down.
        private(set) var brokersDown = false

        var inFlight: Int { pending.count }

        /// A send: registered (before librdkafka can report on it), or failed at once when
        /// the producer is closed or Kafka would refuse the topic's name.
        mutating func send(topic: String, completion: @escaping Completion) -> SendAction {
            guard !closed else { return .fail(KafkaError(.shutdown, "the producer is closed")) }
            if let problem = Self.topicNameProblem(topic) {
                return .fail(KafkaError(.invalidTopic, "topic name \(problem)"))
            }
            let id = nextID
            nextID &+= 1
            pending[id] = completion
            return .produce(id: id)
        }

        /// librdkafka refused the record (or its topic): its completion, if `close()` has
        /// not taken it already.
        mutating func produceFailed(id: UInt) -> Completion? {
            pending.removeValue(forKey: id)
        }

        /// Delivery reports: each matched to its completion (reports for sends already
        /// failed by `close()` are dropped). A timeout while every broker is down becomes
        /// ``KafkaError/Code/brokerUnreachable`` naming `bootstrapServers`.
        mutating func delivered(
            _ outcomes: [(id: UInt, result: Result<KafkaDeliveryReport, KafkaError>)], bootstrapServers: String
        ) -> [(Completion, Result<KafkaDeliveryReport, KafkaError>)] {
            var anySuccess = false
            var matched: [(Completion, Result<KafkaDeliveryReport, KafkaError>)] = []
            matched.reserveCapacity(outcomes.count)
            for (id, result) in outcomes {
                guard let completion = pending.removeValue(forKey: id) else { continue }
                switch result {
                case .success:
                    anySuccess = true
                    matched.append((completion, result))
                case .failure(let error) where error.code == .timedOut && brokersDown:
                    matched.append((completion, .failure(KafkaError(
                        .brokerUnreachable, "no Kafka broker reachable at \(bootstrapServers) before the send timed out",
                        rdKafkaCode: error.rdKafkaCode
                    ))))
                case .failure:
                    matched.append((completion, result))
                }
            }
            if anySuccess { brokersDown = false }
            return matched
        }

        mutating func allBrokersDown() {
            brokersDown = true
        }

        /// Refuses every later send.
        mutating func markClosed() {
            closed = true
        }

        /// After the last report was served: the sends still pending, to fail. Leaves the
        /// machine empty.
        mutating func drain() -> [Completion] {
            closed = true
            defer { pending = [:] }
            return Array(pending.values)
        }

        /// Why Kafka would refuse `name` as a topic (1–249 characters of
        /// `[A-Za-z0-9._-]`, not `.` or `..`), or nil. Checked here because librdkafka
        /// checks only the length, and the embedded cluster creates any name.
        static func topicNameProblem(_ name: String) -> String? {
            if name.isEmpty { return "is empty" }
            if name == "." || name == ".." { return "cannot be \(name)" }
            if name.utf8.count > 249 { return "is longer than 249 characters" }
            let legal = name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                     UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default:
                    false
                }
            }
            return legal ? nil : "may hold only letters, digits, '.', '_' and '-'"
        }
    }
}
