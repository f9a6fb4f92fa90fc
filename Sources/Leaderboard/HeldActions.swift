import FastJSON

/// Actions that name a customer the board has not seen in `new_users` yet.
///
/// A student's clock may stamp an action before the user it names, so the time-ordered
/// merge can deliver the action first. Such an action waits until its user arrives or
/// ``holdFor`` passed, then is judged (a ghost if the user never came). The clock is
/// passed in, so the rule is tested without waiting.
public struct HeldActions: Sendable {
    /// One action waiting for its user.
    public struct Entry: Sendable {
        public var value: [UInt8]
        /// The record's timestamp (ms), the time it is judged at.
        public var time: Int64
        public var customer: String
        /// When it started waiting.
        public var since: ContinuousClock.Instant
    }

    /// How long an action waits for its user.
    public let holdFor: Duration
    public private(set) var entries: [Entry] = []

    public init(holdFor: Duration = .seconds(3)) {
        self.holdFor = holdFor
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The customer an action names, or nil when it names none (it is judged at once).
    public static func customer(in value: [UInt8]) -> String? {
        guard let fields = FlatJSON.parseObject(value), case .string(let customer) = fields["customer"], !customer.isEmpty else { return nil }
        return customer
    }

    /// Starts holding an action for `customer`.
    public mutating func hold(_ value: [UInt8], time: Int64, customer: String, now: ContinuousClock.Instant) {
        entries.append(Entry(value: value, time: time, customer: customer, since: now))
    }

    /// Takes, in the order they arrived, the actions to judge now: those whose user is
    /// known, those held for ``holdFor``, and every one with `force`.
    public mutating func release(now: ContinuousClock.Instant, force: Bool = false, isKnown: (String) -> Bool) -> [(value: [UInt8], time: Int64)] {
        guard !entries.isEmpty else { return [] }
        var ready: [(value: [UInt8], time: Int64)] = []
        var keep: [Entry] = []
        for entry in entries {
            if force || isKnown(entry.customer) || now - entry.since >= holdFor {
                ready.append((entry.value, entry.time))
            } else {
                keep.append(entry)
            }
        }
        entries = keep
        return ready
    }

    /// Drops every held action (a session reset).
    public mutating func removeAll() {
        entries.removeAll()
    }

    /// What a snapshot stores: the actions and their times, not how long they waited.
    public var waiting: [(value: [UInt8], time: Int64)] {
        entries.map { ($0.value, $0.time) }
    }

    /// Holds a snapshot's actions again, each waiting from `now`.
    public mutating func restore(_ actions: [(value: [UInt8], time: Int64)], now: ContinuousClock.Instant) {
        entries = actions.map { Entry(value: $0.value, time: $0.time, customer: Self.customer(in: $0.value) ?? "", since: now) }
    }
}
