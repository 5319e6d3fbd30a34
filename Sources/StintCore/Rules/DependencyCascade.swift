import Foundation

/// What a job's end does to the jobs that wait for it (`--after`): a success counts down
/// their pending dependencies; a failure or a cancellation cancels them, and theirs in
/// turn, each naming the job that broke its chain.
///
/// The walk is written here once, over two operations its caller provides on the store
/// it holds open: reading a job's dependents, and cancelling one dependent.
public enum DependencyCascade {
    /// What a job's end means for its dependents.
    public enum Effect: Sendable, Hashable {
        /// Not an end (or nothing to tell).
        case none
        /// Each dependent has one dependency fewer to wait for.
        case countDown
        /// Each dependent is cancelled; `how` completes "dependency N …".
        case cancel(how: String)
    }

    /// The effect of a job reaching `state`.
    public static func effect(of state: JobState) -> Effect {
        switch state {
        case .succeeded: .countDown
        case .failed: .cancel(how: "failed")
        case .cancelled: .cancel(how: "was cancelled")
        case .held, .queued, .running: .none
        }
    }

    /// The end reason of a dependent cancelled because `dependency` `how` (e.g. "failed").
    public static func reason(dependency: Int64, how: String) -> String { "dependency \(dependency) \(how)" }

    /// Cancels the dependents of `job` (which `how`), transitively, breadth by breadth:
    /// `dependents` lists the jobs waiting for one job (and forgets those links);
    /// `cancel` cancels one dependent with a reason, returning `false` when it was not
    /// waiting any more (running or ended), which stops the walk there. Returns the
    /// cancelled jobs in the order cancelled.
    public static func cancelDependents<E: Error>(
        of job: Int64, how: String, dependents: (Int64) throws(E) -> [Int64],
        cancel: (Int64, String) throws(E) -> Bool
    ) throws(E) -> [Int64] {
        var cancelled: [Int64] = []
        var frontier: [(Int64, String)] = [(job, how)]
        while let (broken, how) = frontier.popLast() {
            for dependent in try dependents(broken) {
                guard try cancel(dependent, reason(dependency: broken, how: how)) else { continue }
                cancelled.append(dependent)
                frontier.append((dependent, "was cancelled"))
            }
        }
        return cancelled
    }
}
