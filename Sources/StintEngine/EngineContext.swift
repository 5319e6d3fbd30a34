import Logging
import StintCore
import StintStore

/// What every type of the engine works with: the store, the processes, the clock.
struct EngineContext: Sendable {
    /// The single source of truth.
    let store: JobLedger
    /// Who claims: recorded on every attempt, and the node whose attempts are reconciled.
    let worker: WorkerIdentity
    /// The processes that run the jobs.
    let processes: any ProcessSupervisor
    /// "Now", and every wait on time.
    let clock: any StintClock
    /// The state folder layout, for the paths the API shows.
    let paths: StintPaths
    /// Where the engine's decisions are logged.
    let logger: Logger
    /// Where each attempt's steps are stamped, when the daemon was asked to.
    var trace: HandOffTrace? = nil
    /// The store as shared by several daemons, when it is one.
    var cluster: (any ClusterStore)? = nil
    /// Where the engine counts for `/metrics`, when the daemon asked it to.
    var metrics: EngineMetrics? = nil

    /// Stamps `step` of `job`'s attempt `attempt` in the trace, if there is one.
    func mark(_ step: HandOffTrace.Step, job: Int64, attempt: Int) {
        trace?.mark(step, job: job, attempt: attempt)
    }
}
