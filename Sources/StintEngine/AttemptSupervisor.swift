import Foundation
import Logging
import StintCore
import StintRunner
import StintStore

/// Owns the attempts running now: starts them, watches for their ends, and hands each
/// end to the ``OutcomeRecorder``.
///
/// An attempt is here from its launch (or re-attachment after a restart) until its
/// process has exited; the store shows it `running` a little longer, until its outcome
/// is recorded. The count of attempts here is what the dispatcher fills up to.
actor AttemptSupervisor {
    /// One running attempt.
    struct Running: Sendable {
        /// Which attempt.
        var id: AttemptID
        /// Its process.
        var pid: Int32
        /// The job as added.
        var spec: JobSpec
    }

    private let context: EngineContext
    private let recorder: OutcomeRecorder
    private var running: [Int64: Running] = [:]

    init(context: EngineContext, recorder: OutcomeRecorder) {
        self.context = context
        self.recorder = recorder
    }

    /// How many attempts run now.
    var count: Int { running.count }

    /// The running attempt of job `id`, if it has one.
    func entry(_ id: Int64) -> Running? { running[id] }

    /// Every running attempt, by job.
    func snapshot() -> [Int64: Running] { running }

    /// Starts a claimed attempt; one that cannot start is recorded as a launch error.
    func launch(_ job: ClaimedJob) async {
        do {
            let pid = try context.processes.launch(job)
            context.mark(.spawned, job: job.id, attempt: job.attempt)
            track(job, pid: pid)
        } catch {
            context.logger.error("cannot start shim", metadata: ["job": "\(job.id)", "error": "\(error)"])
            let outcome = AttemptOutcome(
                reason: .launch_error, endedAt: context.clock.now(), message: "cannot start stint-shim: \(error)")
            await recorder.record(job, outcome: outcome, pid: nil, claimNext: false)
        }
    }

    /// Watches attempt `job.attempt`, whose process is `pid`: launched now, or found
    /// running after a restart.
    func track(_ job: ClaimedJob, pid: Int32) {
        let id = AttemptID(job: job.id, attempt: job.attempt)
        running[job.id] = Running(id: id, pid: pid, spec: job.spec)
        let context = context
        context.processes.watch(id, pid: pid) { [weak self] status in
            context.mark(.exited, job: id.job, attempt: id.attempt)
            guard let self else { return }
            // Unstructured on purpose: the watcher's thread must not wait for the store.
            // Nobody awaits it: `exited` records the outcome itself.
            Task { await self.exited(id, status: status) }
        }
    }

    private func exited(_ id: AttemptID, status: ShimExitStatus?) async {
        guard let entry = running[id.job], entry.id == id else { return }
        running[id.job] = nil
        let job = ClaimedJob(
            id: id.job, attempt: id.attempt, queue: entry.spec.queueName, spec: entry.spec, shimPid: entry.pid,
            startedAt: context.clock.now())
        // The ending claims the next job in its own transaction, or asks the dispatcher to.
        await recorder.conclude(job, pid: entry.pid, status: status)
    }
}
