import Foundation
import Logging
import StintCore
import StintPattern
import StintRunner
import StintStore

/// Turns the end of an attempt into its stored outcome: the exit record (or `lost`), the
/// failure's class, the retry's time, all in one ``JobStore/finish(_:)``.
///
/// A store that cannot take the write now (`E_UNAVAILABLE`: a full disk) is tried again
/// until it can; a write the store refuses for good fails the job with the reason rather
/// than leave it running.
actor OutcomeRecorder {
    private let context: EngineContext
    private let settlement: Settlement
    /// The dispatcher's slots: an ending claims the next job in its own transaction.
    private let slots: SlotLine
    /// Outcomes the store could not take yet, by job, each retried by its own task.
    private var pending: [Int64: Task<Void, Never>] = [:]

    init(context: EngineContext, settlement: Settlement, slots: SlotLine) {
        self.context = context
        self.settlement = settlement
        self.slots = slots
    }

    /// Records the outcome of an attempt whose process is gone: its exit record, or `lost`
    /// once the job's leftover processes are ended. If some cannot be ended, the attempt is
    /// not retried. `status` is the process's wait status, when known.
    func conclude(_ job: ClaimedJob, pid: Int32?, status: ShimExitStatus? = nil) async {
        let id = AttemptID(job: job.id, attempt: job.attempt)
        let processes = context.processes
        let missing: String
        do {
            if let outcome = try processes.exitRecord(id) {
                await record(job, outcome: outcome, pid: pid ?? processes.recordedPid(id))
                return
            }
            missing = ShimExitStatus.describe(status)
        } catch {
            missing = "the shim's exit record is unreadable: \(error)"
        }
        let lost = await processes.endLeftovers(id, pid: pid, missing: missing)
        if let report = lost.report, !report.survivors.isEmpty {
            context.logger.error(
                "leftover processes of a job survived SIGKILL", metadata: ["job": "\(job.id)", "pids": "\(report.survivors)"])
        } else if let report = lost.report, !report.killed.isEmpty {
            context.logger.notice(
                "killed leftover processes of a job whose shim died", metadata: ["job": "\(job.id)", "pids": "\(report.killed)"])
        }
        let outcome = AttemptOutcome(reason: .lost, endedAt: context.clock.now(), message: lost.message)
        await record(job, outcome: outcome, pid: pid ?? processes.recordedPid(id), retry: lost.mayRetry)
    }

    /// Classifies the attempt's outcome (transient or permanent), decides on a retry,
    /// and stores it all in one transaction with the breaker and the dependents, and with
    /// the claim of the slots free now unless `claimNext` is false (an attempt that never
    /// launched: the dispatcher, which is launching it, claims again itself).
    func record(
        _ job: ClaimedJob, outcome: AttemptOutcome, pid: Int32?, retry: Bool = true, claimNext: Bool = true
    ) async {
        let policy = job.spec.retryPolicy
        let now = context.clock.now()
        let log = context.processes.log(
            AttemptID(job: job.id, attempt: job.attempt), cap: job.spec.outputCap ?? JobSpec.defaultOutputCap)
        var transientMatch: PatternResult?
        if policy.needsPatternMatch(outcome), let pattern = policy.transientPattern {
            transientMatch = await Self.match(pattern, againstTailOf: log)
        }
        let verdict = policy.classify(outcome, transientMatch: transientMatch)
        // A job whose row did not decode in full is not retried: its retry settings may be
        // among what was lost.
        let retryAt =
            retry && job.damage == nil
            ? verdict.flatMap {
                policy.retryAt(after: job.attempt, verdict: $0, now: now, jitter: Double.random(in: 0...1))
            } : nil
        let ending = AttemptEnding(
            jobID: job.id, attempt: job.attempt, outcome: outcome, verdict: verdict, retryAt: retryAt,
            shimPid: pid, outputTail: OutputLines.split(log.tail(lines: NotificationView.tailLines)),
            logPath: FileManager.default.fileExists(atPath: log.path) ? log.path : nil)
        // The slots free now (this attempt's among them) are claimed in the ending's transaction.
        let free = claimNext ? await slots.reserve() : 0
        let claim = free > 0 ? ClaimRequest(limit: free, worker: context.worker, now: now) : nil
        do {
            let (result, claimed) = try await context.store.finish(ending, thenClaim: claim)
            context.mark(.recorded, job: job.id, attempt: job.attempt)
            context.metrics?.attemptEnded(outcome, verdict: verdict, claimedAt: job.startedAt)
            await finished(result, queue: job.queue)
            context.mark(.answered, job: job.id, attempt: job.attempt)
            await slots.claimed(claimed, reserved: free)
        } catch let error as StintError where error.code == .unavailable {
            await slots.claimed(nil, reserved: free)
            context.logger.error(
                "cannot record outcome yet; trying again until the store takes it",
                metadata: ["job": "\(job.id)", "error": "\(error)"])
            retryLater(ending, queue: job.queue)
        } catch {
            await slots.claimed(nil, reserved: free)
            context.logger.error("cannot record outcome", metadata: ["job": "\(job.id)", "error": "\(error)"])
            await failUnprocessable(
                job.id, attempt: job.attempt,
                reason: "the outcome of attempt \(job.attempt) (\(outcome.reason.rawValue)) cannot be stored: \(error)")
        }
    }

    /// After a stored ending: log, then wake whoever waits.
    private func finished(_ result: FinishResult, queue: String) async {
        context.logger.debug("attempt ended", metadata: ["job": "\(result.job.id)", "state": "\(result.job.state.rawValue)"])
        if let transition = result.transition {
            context.logger.notice(
                "breaker \(transition.from.rawValue) → \(transition.to.rawValue)",
                metadata: ["queue": "\(queue)", "reason": "\(transition.reason)"])
        }
        await settlement.settled(result)
    }

    /// Tries `ending` again, after 0.1 s, then twice as long each time up to 5 s
    /// (``StoreRetryBackoff``) on the engine's clock, until the store takes it. The job stays
    /// `running` meanwhile (which is true: its end is not on disk), so `wait` goes on waiting
    /// and returns the true outcome once it is stored. Nothing is lost if the daemon stops
    /// first: the exit record stays in the run folder and the next start's reconciliation
    /// reads it again (a `lost` outcome is found again the same way).
    private func retryLater(_ ending: AttemptEnding, queue: String) {
        guard pending[ending.jobID] == nil else { return }
        let backoff = StoreRetryBackoff()
        let clock = context.clock
        // Unstructured: nobody awaits it. It ends when the ending is stored, or when the
        // engine shuts down (cancelled; the next start redoes it).
        pending[ending.jobID] = Task { [weak self] in
            var failures = 1
            while !Task.isCancelled {
                try? await clock.sleep(for: backoff.delay(afterFailures: failures))
                guard let self, !Task.isCancelled else { return }
                if await self.retryFinish(ending, queue: queue) { return }
                failures += 1
            }
        }
    }

    /// One more try of a pending ending; true when it is settled (stored, or given up on).
    private func retryFinish(_ ending: AttemptEnding, queue: String) async -> Bool {
        do {
            let result = try await context.store.finish(ending)
            pending[ending.jobID] = nil
            context.logger.notice("recorded an outcome the store could not take before", metadata: ["job": "\(ending.jobID)"])
            await finished(result, queue: queue)
            await settlement.dispatch.ring()
            return true
        } catch let error as StintError where error.code == .unavailable {
            return false
        } catch {
            pending[ending.jobID] = nil
            context.logger.error("cannot record outcome", metadata: ["job": "\(ending.jobID)", "error": "\(error)"])
            await failUnprocessable(
                ending.jobID, attempt: ending.attempt,
                reason: "the outcome of attempt \(ending.attempt) (\(ending.outcome.reason.rawValue)) cannot be stored: \(error)")
            return true
        }
    }

    /// Fails a job the engine cannot process, with `reason`, so that it neither runs with
    /// what could not be read nor stays `running` for ever.
    func failUnprocessable(_ id: Int64, attempt: Int?, reason: String) async {
        do {
            let result = try await context.store.failUnprocessable(
                job: id, attempt: attempt, reason: reason, now: context.clock.now())
            await settlement.settled(result)
        } catch {
            context.logger.error("cannot fail an unprocessable job", metadata: ["job": "\(id)", "error": "\(error)"])
        }
    }

    /// Stops retrying the outcomes the store could not take, for shutdown: the next start
    /// reads them again from the exit records.
    func shutdown() {
        for task in pending.values { task.cancel() }
    }

    /// The lines of output matched against `--transient-pattern`.
    static let patternTailLines = 50

    /// Matches `--transient-pattern` against the last lines of the output, off the
    /// recorder's executor and within the pattern's step budget.
    @concurrent
    private nonisolated static func match(_ pattern: String, againstTailOf log: LogReader) async -> PatternResult {
        // Checked at `add`; a row from before that check that does not compile matches nothing.
        guard let compiled = try? BoundedPattern(pattern, option: "--transient-pattern") else { return .notMatched }
        return log.tail(lines: patternTailLines).withUnsafeBytes { compiled.firstMatch(in: $0) }
    }
}
