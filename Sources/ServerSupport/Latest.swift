import Synchronization

/// The latest value one thread found, for others to read: a check's result, a
/// measurement.
public final class Latest<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    public init(_ initial: Value) {
        value = Mutex(initial)
    }

    public var current: Value {
        get { value.withLock { $0 } }
    }

    public func set(_ new: Value) {
        value.withLock { $0 = new }
    }
}
