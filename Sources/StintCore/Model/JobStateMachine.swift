/// The one transition table of the job lifecycle.
///
/// Stores call ``next(from:on:)`` before every state change and refuse the change
/// when it returns `nil`, so an illegal transition cannot reach the database.
public enum JobStateMachine {
    /// Every legal `(state, event)` pair and the state it leads to.
    public static let table: [JobState: [JobEvent: JobState]] = [
        .held: [.release: .queued, .cancel: .cancelled],
        .queued: [.start: .running, .cancel: .cancelled],
        .running: [.succeed: .succeeded, .fail: .failed, .reschedule: .queued, .cancel: .cancelled],
        .succeeded: [.retry: .queued],
        .failed: [.retry: .queued],
        .cancelled: [.retry: .queued],
    ]

    /// The state `event` leads to from `state`, or `nil` when the transition is illegal.
    public static func next(from state: JobState, on event: JobEvent) -> JobState? {
        table[state]?[event]
    }
}
