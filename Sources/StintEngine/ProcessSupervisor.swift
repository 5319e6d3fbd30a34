import Foundation
public import StintCore
public import StintRunner
import StintStore

/// One attempt of one job: what the process seam is keyed by.
public struct AttemptID: Sendable, Hashable, CustomStringConvertible {
    /// The job.
    public var job: Int64
    /// The attempt's number (1, 2, …).
    public var attempt: Int

    /// Creates an id.
    public init(job: Int64, attempt: Int) {
        self.job = job
        self.attempt = attempt
    }

    /// `JOB.ATTEMPT`, as the run folders are named.
    public var description: String { "\(job).\(attempt)" }
}

/// What became of a claimed attempt's process, as a daemon finds it after a (re)start.
public enum FoundProcess: Sendable, Hashable {
    /// It still runs, as process `pid`: the engine re-attaches to it.
    case running(pid: Int32)
    /// It never started (the daemon stopped between the claim and the start): the attempt
    /// goes back to the queue without using a retry. What it left (its run folder) is
    /// already removed, in a way that keeps a shim starting late from running in it, so
    /// the attempt can be claimed again at once.
    case neverStarted
    /// It ran and is gone: its exit record tells how it ended, or it is `lost`.
    case gone
}

/// The processes that run jobs, as the engine sees them: the one seam between the
/// engine's decisions and the operating system.
///
/// The engine decides what runs, when, and what an ending means; an implementation starts
/// and watches the processes and reads what they leave behind (exit records, logs). The
/// daemon uses ``ShimSupervisor``, a `stint-shim` per attempt; the engine's tests use a fake
/// with a manual clock, so that no engine behaviour needs a real process to be tested.
///
/// The seam is here, below the engine's types and above the shim's files, because
/// everything above it is a decision worth testing alone and everything below it is a
/// fact about processes and files that only a real process can prove (the end-to-end tests
/// do). Implementations must be safe to call from any task. The methods that are not
/// `async` are called from the engine's actors on the path from claim to launch and from
/// exit to record: they may do a system call or read a small file, never wait.
public protocol ProcessSupervisor: Sendable {
    /// Starts the process that runs attempt `job.attempt` of `job`, and returns its pid.
    /// Throws when it cannot start it; nothing of the attempt runs then.
    func launch(_ job: ClaimedJob) throws -> Int32

    /// Calls `onExit` once, from any thread, when process `pid` (running `attempt`) has
    /// exited (at once if it has already), with its wait status when it was the daemon's
    /// own child and `nil` otherwise. Pushed, not polled, where the system allows.
    func watch(_ attempt: AttemptID, pid: Int32, onExit: @escaping @Sendable (ShimExitStatus?) -> Void)

    /// What became of `attempt`'s process, for a daemon that finds the attempt claimed
    /// after a (re)start. May wait a moment for a process that is starting that instant.
    func find(_ attempt: AttemptID) async -> FoundProcess

    /// Whether `attempt`'s process still runs.
    func isAlive(_ attempt: AttemptID) -> Bool

    /// The pid `attempt`'s process recorded for itself, if it did.
    func recordedPid(_ attempt: AttemptID) -> Int32?

    /// How `attempt` ended, once its process recorded it; `nil` before. Throws when the
    /// record exists but cannot be read.
    func exitRecord(_ attempt: AttemptID) throws -> AttemptOutcome?

    /// Ends what is left of `attempt`'s job after its process (`pid`, when known) died
    /// without an exit record, and says what was found; `missing` says why there is no
    /// record. Returns only once nothing of the job runs, or it gave up on survivors.
    func endLeftovers(_ attempt: AttemptID, pid: Int32?, missing: String) async -> LostAttempt

    /// Asks `attempt`'s process (`pid`) to cancel its job: SIGTERM to the whole tree, SIGKILL
    /// after `grace` seconds (`nil`: the supervisor's default). Throws when it is gone.
    func stop(_ attempt: AttemptID, pid: Int32, grace: Double?) throws

    /// Asks `attempt`'s process (`pid`) to send `signal` to every process of its job.
    /// Throws when it is gone.
    func signal(_ attempt: AttemptID, pid: Int32, signal: Int32) throws

    /// Whether a stop of `attempt` is put off because a `stint critical` step of it runs.
    func isStopDeferred(_ attempt: AttemptID) -> Bool

    /// `attempt`'s output, as it stands, under the output cap `cap` it ran with.
    func log(_ attempt: AttemptID, cap: Int64) -> LogReader

    /// Runs queue `queue`'s preflight `command` to its end or for `timeout` seconds, and
    /// says whether it passed (with the reason when not). Cancelling the caller ends it.
    func runPreflight(_ command: String, queue: String, timeout: Double) async -> (passed: Bool, reason: String?)

    /// Deletes every attempt's output and run folder of job `job`, for a job deleted from the store.
    func removeFiles(ofJob job: Int64)
}
