/// What the brokers said about the consumer groups at one look: the groups described,
/// the ones whose description failed, and whether every broker answered. A group absent
/// from a complete listing has no members right now; absent from a partial one, nothing
/// is known about it.
public struct KafkaGroupListing: Sendable, Equatable {
    public var groups: [KafkaGroupDescription]
    /// Groups a broker listed but could not describe (coordinator loading, …).
    public var failed: Set<String>
    /// Every broker answered within the timeout.
    public var complete: Bool

    public init(groups: [KafkaGroupDescription], failed: Set<String> = [], complete: Bool = true) {
        self.groups = groups
        self.failed = failed
        self.complete = complete
    }

    /// Whether `group`'s absence means it has no members (and not merely that its
    /// coordinator did not answer).
    public func isKnownAbsent(_ group: String) -> Bool {
        complete && !failed.contains(group) && !groups.contains { $0.group == group }
    }
}
