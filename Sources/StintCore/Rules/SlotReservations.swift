/// The slots of a daemon's `--parallel` limit held by claims under way, and when a
/// claim must look again.
///
/// Several claims run at once: the dispatcher's own, and one inside each add's, ending's
/// or fire's transaction. Each reserves every slot free when it starts and hands them back
/// once its claimed attempts are launched (counted among the running). A claim that finds
/// slots free but held by others gets fewer, possibly none, and its write may then commit
/// a job nobody claims: the others' claims read the store before it committed. So when
/// such a claim was short-changed, the hand-back that leaves no slot held says to look
/// again. Without it the job waited beside free slots until some other write woke the
/// dispatcher.
public struct SlotReservations: Sendable, Equatable {
    /// The daemon's `--parallel`.
    public let parallel: Int
    /// Slots held by claims under way, not yet counted among the running attempts.
    public private(set) var reserved = 0
    /// Whether a claim got fewer slots than were free since no slot was last held.
    public private(set) var shortChanged = false

    /// No slot held.
    public init(parallel: Int) {
        self.parallel = parallel
    }

    /// Reserves every slot free with `running` attempts running; returns how many.
    public mutating func reserve(running: Int) -> Int {
        let free = max(0, parallel - running - reserved)
        // Slots are free, but some (or all) are held by claims under way.
        if reserved > 0, running < parallel { shortChanged = true }
        reserved += free
        return free
    }

    /// Hands back `count` slots that ``reserve(running:)`` gave; true when a claim was
    /// short-changed while slots were held and none is held now: look again.
    public mutating func handBack(_ count: Int) -> Bool {
        reserved = max(0, reserved - count)
        guard shortChanged, reserved == 0 else { return false }
        shortChanged = false
        return true
    }
}
