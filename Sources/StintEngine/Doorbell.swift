import Synchronization

/// A wake-up rung by a type that cannot hold its listener: connected once, after both
/// exist.
///
/// The engine's types form a cycle of wake-ups (the dispatcher launches attempts, an
/// attempt's end calls for a dispatch); a doorbell, connected weakly, breaks it, and lets
/// the daemon connect the delivery worker after the engine is made.
final class Doorbell: Sendable {
    private let action = Mutex<(@Sendable () async -> Void)?>(nil)

    /// Creates a doorbell connected to nothing: ringing it does nothing until ``connect(_:)``.
    init() {}

    /// Makes `action` what ringing does, in place of any earlier one.
    func connect(_ action: @escaping @Sendable () async -> Void) {
        self.action.withLock { $0 = action }
    }

    /// Runs the connected action and returns when it has.
    func ring() async {
        await action.withLock { $0 }?()
    }
}
