import StintCore
import Synchronization

/// The dispatcher's slots, reached from a type that cannot hold the dispatcher (the
/// outcome recorder, which the dispatcher's attempts hold): connected once, after both exist.
///
/// A write that frees a slot (an attempt's ending) reserves the free slots, claims in its
/// own transaction, and hands the claim back here, so that the next job starts with the
/// ending's commit instead of one more.
final class SlotLine: Sendable {
    private struct Actions {
        var reserve: @Sendable () async -> Int
        var claimed: @Sendable (ClaimResult?, Int) async -> Void
    }

    private let actions = Mutex<Actions?>(nil)

    /// Creates a line connected to nothing: it reserves no slot until ``connect(reserve:claimed:)``.
    init() {}

    /// Connects the line to the dispatcher's ``Dispatcher/reserveSlots()`` and
    /// ``Dispatcher/claimed(_:reserved:)``.
    func connect(
        reserve: @escaping @Sendable () async -> Int, claimed: @escaping @Sendable (ClaimResult?, Int) async -> Void
    ) {
        actions.withLock { $0 = Actions(reserve: reserve, claimed: claimed) }
    }

    /// Reserves the slots free now; 0 when none is, or when not connected.
    func reserve() async -> Int {
        await actions.withLock { $0?.reserve }?() ?? 0
    }

    /// Hands back `count` reserved slots with what a claim made with them claimed.
    func claimed(_ result: ClaimResult?, reserved count: Int) async {
        await actions.withLock { $0?.claimed }?(result, count)
    }
}
