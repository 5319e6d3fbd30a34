public import Foundation

/// The state a new job starts in: held, queued (ready to claim, or waiting for its time or
/// its dependencies), or cancelled at once because a dependency already failed.
public struct JobAdmission: Sendable, Hashable {
    /// The first state.
    public var state: JobState
    /// Not before this moment.
    public var runAt: Date
    /// Whether a claim may take it now (see ``isReady(state:pendingDependencies:runAt:now:)``).
    public var ready: Bool
    /// The dependencies still to succeed.
    public var pending: [Int64]
    /// Why it was cancelled at once (a dependency that failed or was cancelled), or `nil`.
    public var brokenBy: String?

    /// Admits `spec` at `now`, given the states of its dependencies (`nil`: no such job,
    /// which throws `E_NOT_FOUND`). Succeeded dependencies are satisfied, live ones counted.
    public static func admit(
        _ spec: JobSpec, dependencies: [(id: Int64, state: JobState?)], now: Date
    ) throws(StintError) -> JobAdmission {
        var pending: [Int64] = []
        var brokenBy: String?
        for (id, state) in dependencies.sorted(by: { $0.id < $1.id }) {
            guard let state else { throw StintError(.notFound, "--after: job \(id) does not exist") }
            switch state {
            case .succeeded: continue
            case .failed: brokenBy = brokenBy ?? "dependency \(id) failed"
            case .cancelled: brokenBy = brokenBy ?? "dependency \(id) was cancelled"
            case .held, .queued, .running: pending.append(id)
            }
        }
        let runAt = spec.runAt ?? now.addingTimeInterval(spec.delay ?? 0)
        let state: JobState = brokenBy != nil ? .cancelled : (spec.hold == true ? .held : .queued)
        return JobAdmission(
            state: state, runAt: runAt,
            ready: isReady(state: state, pendingDependencies: pending.count, runAt: runAt, now: now),
            pending: brokenBy == nil ? pending : [], brokenBy: brokenBy)
    }

    /// A job a claim may take: queued, with no dependency left, and its time come.
    public static func isReady(state: JobState, pendingDependencies: Int, runAt: Date?, now: Date) -> Bool {
        state == .queued && pendingDependencies == 0 && (runAt ?? now) <= now
    }
}
