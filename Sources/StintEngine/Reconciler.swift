import Foundation
import Logging
import StintCore
import StintStore

/// Rebuilds the truth after a (re)start from the store and what the attempts' processes
/// left behind.
///
/// For each attempt the store still shows running: a process that still runs is
/// re-attached; an attempt that never started goes back to the queue without using a
/// retry; an exit record gives the true outcome; otherwise the job's leftover processes are
/// ended and the attempt is `lost` — never a success. A job the engine cannot process is
/// failed with the reason; it never keeps the daemon from starting.
struct Reconciler: Sendable {
    let context: EngineContext
    let attempts: AttemptSupervisor
    let recorder: OutcomeRecorder

    /// Reconciles every attempt the store shows running. Throws only when the store cannot
    /// list them.
    func reconcile() async throws {
        let logger = context.logger
        for claimed in try await context.store.runningAttempts(node: context.worker.node) {
            if let damage = claimed.damage {
                // Reconciled all the same (its processes are real), but never retried.
                logger.error(
                    "a running job's stored row cannot be read in full",
                    metadata: ["job": "\(claimed.id)", "damage": "\(damage)"])
            }
            let id = AttemptID(job: claimed.id, attempt: claimed.attempt)
            switch await context.processes.find(id) {
            case .running(let pid):
                logger.info("re-attached to running job", metadata: ["job": "\(claimed.id)", "shim": "\(pid)"])
                await attempts.track(claimed, pid: pid)
            case .neverStarted:
                await unclaim(claimed)
            case .gone:
                await recorder.conclude(claimed, pid: claimed.shimPid)
            }
        }
    }

    /// Puts a claimed attempt that never started back in the queue, its number and the
    /// job's retries untouched.
    private func unclaim(_ job: ClaimedJob) async {
        do {
            // Its run folder is gone already (``ProcessSupervisor/find(_:)``): once the claim is
            // undone, an add arriving meanwhile may claim it again at once, in a new folder.
            _ = try await context.store.unclaim(job: job.id, attempt: job.attempt, now: context.clock.now())
            context.logger.notice(
                "claimed job never started; back in the queue", metadata: ["job": "\(job.id)", "attempt": "\(job.attempt)"])
        } catch {
            context.logger.error("cannot requeue a job that never started", metadata: ["job": "\(job.id)", "error": "\(error)"])
            await recorder.failUnprocessable(
                job.id, attempt: job.attempt, reason: "attempt \(job.attempt) never started and cannot be requeued: \(error)")
        }
    }
}
