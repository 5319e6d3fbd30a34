import Foundation
public import StintClient
public import StintCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One unit of a batch: its value (what replaces `{}`) and its 1-based position.
public struct BatchUnit: Sendable, Hashable {
    /// The unit's value.
    public var value: String
    /// Its position in the batch, from 1.
    public var position: Int64

    /// Creates a unit.
    public init(value: String, position: Int64) {
        self.value = value
        self.position = position
    }
}

/// One unit's result: a line of `-o ndjson`.
public struct UnitResult: Sendable, Codable, Hashable {
    /// The unit's value.
    public var unit: String
    /// Its position in the batch, from 1.
    public var position: Int64
    /// Whether it succeeded.
    public var ok: Bool
    /// Its exit code, when it exited.
    public var exitCode: Int32?
    /// The signal that killed it.
    public var signal: Int32?
    /// Why it failed, when there is more to say than the exit code.
    public var message: String?
    /// Seconds it ran.
    public var duration: Double
    /// The last lines of its output.
    public var outputTail: String?

    enum CodingKeys: String, CodingKey { case unit, position, ok, exitCode, signal, message, duration, outputTail }

    /// Every line has `unit`, `position`, `ok`, `exit_code`, `duration` and `output_tail`
    /// (null when absent); `signal` and `message` only when there is one.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(unit, forKey: .unit)
        try container.encode(position, forKey: .position)
        try container.encode(ok, forKey: .ok)
        try container.encode(exitCode, forKey: .exitCode)
        try container.encodeIfPresent(signal, forKey: .signal)
        try container.encodeIfPresent(message, forKey: .message)
        try container.encode(duration, forKey: .duration)
        try container.encode(outputTail, forKey: .outputTail)
    }
}

/// Where a batch starts.
public enum BatchStart: Sendable, Hashable {
    /// After the last completed unit of the checkpoint in the store (the first unit without one).
    case checkpoint
    /// At the first unit, ignoring the checkpoint (`--restart`).
    case restart
    /// At this unit (`--resume-from N`: a value of a range, a position of a list).
    case resumeFrom(String)
}

/// How a batch runs.
public struct BatchOptions: Sendable {
    /// Units run at once (`--parallel`, default 1).
    public var parallel = 1
    /// Consecutive failures that stop the batch with exit 8 (`--max-failures`); 0: never (the default).
    public var maxFailures = 0
    /// Units between two checkpoints in the store (`--checkpoint-every`, default 50).
    public var checkpointEvery = 50
    /// Units between two progress reports (`--progress-every`, default 10).
    public var progressEvery = 10
    /// Where to start (default: after the checkpoint).
    public var start = BatchStart.checkpoint
    /// Run even when the same batch runs elsewhere or an excluded queue is not paused (`--allow-concurrent`).
    public var allowConcurrent = false
    /// Queues that must be paused while the batch runs (`--exclusive-with`).
    public var exclusiveWith: [String] = []
    /// Stop gracefully on the first SIGINT or SIGTERM and at once on the second (default true).
    public var handlesSignals = true
    /// The stint job running this batch, which gets its progress and checkpoint (default:
    /// `$STINT_JOB_ID`).
    public var job: Int64? = ProcessInfo.processInfo.environment["STINT_JOB_ID"].flatMap(Int64.init)
    /// The job's checkpoint from an earlier attempt, used when the store has none (default:
    /// `$STINT_CHECKPOINT` inside a job).
    public var jobCheckpoint: String? =
        ProcessInfo.processInfo.environment["STINT_JOB_ID"] == nil ? nil : ProcessInfo.processInfo.environment["STINT_CHECKPOINT"]
    /// The command line that ran the batch, to print how to resume it (`--resume-from` is put
    /// before a `--`, or at the end; an old `--resume-from` or `--restart` is dropped).
    public var commandLine: [String]?

    /// Options with the defaults.
    public init() {}

    /// Refuses values out of range, as usage errors.
    public func validate() throws(StintError) {
        guard parallel >= 1, parallel <= 1024 else { throw StintError(.usage, "--parallel takes 1 to 1024, not \(parallel)") }
        guard maxFailures >= 0 else { throw StintError(.usage, "--max-failures takes 0 (off) or more, not \(maxFailures)") }
        guard checkpointEvery >= 1 else { throw StintError(.usage, "--checkpoint-every takes 1 or more, not \(checkpointEvery)") }
        guard progressEvery >= 1 else { throw StintError(.usage, "--progress-every takes 1 or more, not \(progressEvery)") }
        for queue in exclusiveWith { try QueueName.validate(queue) }
    }
}

/// Where a batch keeps its checkpoint and lock: the stint daemon (``StintClient``), or
/// your own. Errors are ``StintError``s; `E_CONFLICT` from ``acquire(_:)`` refuses the run.
public protocol BatchCheckpointStore: Sendable {
    /// Takes the batch's lock and returns its checkpoint.
    func acquire(_ request: BatchAcquireRequest) throws -> BatchView
    /// Records the checkpoint (and releases the lock, or forgets a finished batch, as asked).
    func save(_ id: Int64, _ request: BatchSaveRequest) throws
    /// Tells that the holder still runs.
    func heartbeat(_ id: Int64, token: String) throws
    /// Reports a stint job's progress; does nothing by default.
    func reportProgress(job: Int64, _ progress: ProgressRequest) throws
    /// Records a stint job's checkpoint; does nothing by default.
    func reportCheckpoint(job: Int64, _ value: String) throws
}

extension BatchCheckpointStore {
    public func reportProgress(job: Int64, _ progress: ProgressRequest) throws {}
    public func reportCheckpoint(job: Int64, _ value: String) throws {}
}

extension StintClient: BatchCheckpointStore {
    public func acquire(_ request: BatchAcquireRequest) throws -> BatchView { try acquireBatch(request) }
    public func save(_ id: Int64, _ request: BatchSaveRequest) throws { try saveBatch(id, request) }
    public func heartbeat(_ id: Int64, token: String) throws { try heartbeatBatch(id, token: token) }
    public func reportProgress(job: Int64, _ progress: ProgressRequest) throws { _ = try self.progress(job, progress) }
    public func reportCheckpoint(job: Int64, _ value: String) throws { _ = try checkpoint(job, value) }
}

/// What happens during a batch, for a reporter (``BatchConsole``) to show.
public enum BatchEvent: Sendable {
    /// The batch starts at `position` (1 when it does not resume), with `warnings` to show.
    case started(total: Int64, position: Int64, value: String?, warnings: [String])
    /// A unit ended.
    case unit(UnitResult, BatchCounts)
    /// The first SIGINT or SIGTERM: running units finish, no new one starts.
    case interrupted(signal: Int32, running: Int)
    /// Something the user should know that does not stop the batch.
    case warning(String)
    /// The second SIGINT or SIGTERM: running units get SIGKILL and the process exits 128+N now.
    case forcedExit(signal: Int32)
}

/// Where a batch stands, after a unit ends.
public struct BatchCounts: Sendable, Hashable {
    /// Units in the batch.
    public var total: Int64
    /// Units done: by earlier runs (or skipped) and by this one.
    public var done: Int64
    /// Units done by this run.
    public var ran: Int64
    /// Units that failed (earlier runs included).
    public var failed: Int64
    /// Seconds since this run started.
    public var elapsed: Double
}

/// The batch contract as a library: units, a per-unit async closure, options, and a
/// summary with the exit code.
///
/// ```swift
/// let batch = Batch(command: "resync", target: "range 1-500", units: try .range("1-500"),
///                   store: client, reporter: BatchConsole(format: .text))
/// let summary = try await batch.run { unit in
///     try await resync(Int(unit.value)!) ; return .success
/// }
/// exit(summary.exitCode)
/// ```
///
/// It checkpoints in order under `--parallel` (the checkpoint is the highest position below
/// which every unit is done), opens the breaker after `maxFailures` consecutive failures (and
/// rewinds the checkpoint before them, so a resume runs them again), handles SIGINT/SIGTERM
/// (finish running units, checkpoint, exit 7; a second signal exits 128+N at once), takes the
/// lock of the batch (exit 9 when another live process holds it), and reports progress.
public struct Batch: Sendable {
    /// The per-unit command, as the key of the checkpoint.
    public var command: String
    /// The units, as the other half of the key (`range 1-500`, `ids …`, `file …`).
    public var target: String
    /// The units.
    public var units: BatchUnits
    /// How it runs.
    public var options: BatchOptions
    /// Where the checkpoint and lock live; `nil`: nowhere (no resume, no lock).
    public var store: (any BatchCheckpointStore)?
    /// Who shows what happens; `nil`: nobody.
    public var reporter: (any BatchReporter)?

    /// Creates a batch.
    public init(
        command: String, target: String, units: BatchUnits, options: BatchOptions = BatchOptions(),
        store: (any BatchCheckpointStore)? = nil, reporter: (any BatchReporter)? = nil
    ) {
        self.command = command
        self.target = target
        self.units = units
        self.options = options
        self.store = store
        self.reporter = reporter
    }

    /// Runs the units through `body` and returns the summary (its ``BatchSummary/exitCode``
    /// is the contract's). Throws `E_CONFLICT` before any unit runs when the batch is held
    /// elsewhere, and usage errors for bad options (then the store is not touched).
    public func run(_ body: @escaping @Sendable (BatchUnit) async -> UnitOutcome) async throws -> BatchSummary {
        try options.validate()
        if case .resumeFrom(let text) = options.start { _ = try units.position(resumingFrom: text) }
        let began = Date()
        let plan = try acquire()
        reporter?.handle(
            .started(
                total: units.count, position: plan.start, value: plan.start <= units.count ? units.value(at: plan.start) : nil,
                warnings: plan.warnings))
        let signals = options.handlesSignals ? SignalWatch(reporter: reporter) : nil
        defer { signals?.cancel() }
        let heartbeat = startHeartbeat(plan)
        defer { heartbeat?.cancel() }

        var frontier = CheckpointFrontier(completed: plan.start - 1)
        var breaker = ConsecutiveFailures(limit: options.maxFailures)
        var streak: [Int64] = []
        var failures: [Int64: String] = [:]
        var succeeded: Int64 = 0
        var ran: Int64 = 0
        var sinceSave = 0
        var abortedBy: BatchSummary.AbortReason?
        var next = plan.start
        let total = units.count
        func counts() -> BatchCounts {
            BatchCounts(
                total: total, done: plan.start - 1 + ran, ran: ran, failed: plan.carried.failed + Int64(failures.count),
                elapsed: Date().timeIntervalSince(began))
        }

        await withTaskGroup(of: (UnitResult, timedOut: Bool).self) { group in
            var running = 0
            func launch() {
                while running < options.parallel, next <= total, abortedBy == nil, !(signals?.stopping ?? false) {
                    let unit = BatchUnit(value: units.value(at: next), position: next)
                    next += 1
                    running += 1
                    group.addTask {
                        let started = Date()
                        let outcome = await body(unit)
                        let result = UnitResult(
                            unit: unit.value, position: unit.position, ok: outcome.ok, exitCode: outcome.exitCode,
                            signal: outcome.signal, message: outcome.message, duration: Date().timeIntervalSince(started),
                            outputTail: outcome.outputTail)
                        return (result, outcome.timedOut)
                    }
                }
            }
            launch()
            while case (var result, let timedOut)? = await group.next() {
                if SignalWatch.isForcing { continue }
                running -= 1
                ran += 1
                let killed = result.signal != nil && !timedOut
                if killed, let signals, !signals.stopping, [SIGTERM, SIGINT, SIGHUP, SIGKILL].contains(result.signal!) {
                    // `stint stop` signals the batch and its units at once; the unit's end can
                    // reach this loop before the batch's own signal is handled. Give that
                    // signal a moment, so the unit is not taken for done.
                    await signals.waitForStop(seconds: 0.5)
                }
                if signals?.stopping ?? false, killed {
                    // Killed while the batch stops (`stint stop` of a batch job signals its whole
                    // tree): not done, so the checkpoint stays before it and a resume runs it again.
                    result.message = "interrupted by signal \(result.signal!) while stopping: it runs again on resume"
                    reporter?.handle(.unit(result, counts()))
                    continue
                }
                frontier.finish(result.position)
                if result.ok {
                    succeeded += 1
                    streak.removeAll()
                } else {
                    failures[result.position] = result.unit
                    streak.append(result.position)
                }
                if breaker.record(success: result.ok), abortedBy == nil { abortedBy = .maxFailures }
                let counts = counts()
                reporter?.handle(.unit(result, counts))
                if let job = options.job, ran % Int64(options.progressEvery) == 0 {
                    report { try store?.reportProgress(job: job, progressRequest(counts, unit: result.unit)) }
                }
                sinceSave += 1
                if sinceSave >= options.checkpointEvery {
                    sinceSave = 0
                    save(plan, checkpoint: frontier.completed, failures: failures, release: false, stoppedBy: nil)
                }
                launch()
            }
        }
        if SignalWatch.isForcing { await SignalWatch.waitForForcedExit() }
        if abortedBy == nil, signals?.stopping ?? false { abortedBy = .signal }
        // The failures that opened the breaker are not done: a resume runs them again.
        var completed = frontier.completed
        if abortedBy == .maxFailures, let first = streak.min() { completed = min(completed, first - 1) }
        let finished = abortedBy == nil && completed == total
        save(plan, checkpoint: completed, failures: failures, release: true, stoppedBy: abortedBy?.rawValue, finished: finished)
        if let job = options.job {
            let final = counts()
            report { try store?.reportProgress(job: job, progressRequest(final, unit: nil)) }
        }
        let failedUnits = plan.carried.failedUnits + failures.sorted { $0.key < $1.key }.map(\.value)
        let resumeFrom = finished ? nil : units.resumeArgument(for: completed + 1)
        return BatchSummary(
            total: total, succeeded: plan.carried.succeeded + succeeded, failed: plan.carried.failed + Int64(failures.count),
            skipped: plan.skipped, ran: ran, failedUnits: Array(failedUnits.prefix(BatchView.failedUnitsLimit)),
            abortedBy: abortedBy, completed: completed, lastCompleted: completed > 0 ? units.value(at: completed) : nil,
            resumeFrom: resumeFrom, resumedFrom: plan.start > 1 && plan.start <= total ? units.value(at: plan.start) : nil,
            resumeCommand: resumeFrom.flatMap { resumeCommand(from: $0) }, duration: Date().timeIntervalSince(began))
    }

    // MARK: - Plan

    /// Where this run starts and what earlier runs did.
    struct Plan {
        var batch: BatchView?
        var start: Int64
        var carried = Carried()
        var skipped: Int64 = 0
        var warnings: [String] = []
    }

    /// What earlier runs recorded up to the checkpoint this run resumes from.
    struct Carried {
        var succeeded: Int64 = 0
        var failed: Int64 = 0
        var failedUnits: [String] = []
    }

    private func acquire() throws -> Plan {
        var batch: BatchView?
        var warnings: [String] = []
        if let store {
            let view = try store.acquire(
                BatchAcquireRequest(
                    command: command, target: target, total: units.count, holder: ProcessIdentity.current,
                    allowConcurrent: options.allowConcurrent, exclusiveWith: options.exclusiveWith))
            batch = view
            warnings = view.warnings ?? []
        }
        let recorded = batch?.completed ?? 0
        var plan = Plan(batch: batch, start: 1, warnings: warnings)
        switch options.start {
        case .restart:
            plan.start = 1
        case .resumeFrom(let text):
            plan.start = try units.position(resumingFrom: text)
        case .checkpoint:
            plan.start = recorded + 1
            if recorded == 0, let text = options.jobCheckpoint, !text.isEmpty {
                if let position = try? units.position(resumingFrom: text) {
                    plan.start = position
                    plan.warnings.append("resuming from the job's checkpoint: \(text)")
                } else {
                    plan.warnings.append("ignoring the job's checkpoint \(text): not a unit of this batch")
                }
            }
        }
        if let batch, plan.start - 1 == recorded, recorded > 0 {
            plan.carried = Carried(succeeded: batch.succeeded, failed: batch.failed, failedUnits: batch.failedUnits)
            if case .checkpoint = options.start {
                plan.warnings.append("resuming after the checkpoint: \(recorded) of \(units.count) units done")
            }
        }
        plan.skipped = plan.start - 1 - plan.carried.succeeded - plan.carried.failed
        return plan
    }

    // MARK: - Checkpoints

    private func save(
        _ plan: Plan, checkpoint completed: Int64, failures: [Int64: String], release: Bool, stoppedBy: String?,
        finished: Bool = false
    ) {
        if SignalWatch.isForcing { return }
        let through = failures.filter { $0.key <= completed }.sorted { $0.key < $1.key }
        let ranThrough = max(0, completed - (plan.start - 1))
        let resumeFrom = completed < units.count ? units.resumeArgument(for: completed + 1) : nil
        if let batch = plan.batch {
            let request = BatchSaveRequest(
                token: batch.token, completed: completed, resumeFrom: resumeFrom,
                succeeded: plan.carried.succeeded + ranThrough - Int64(through.count),
                failed: plan.carried.failed + Int64(through.count),
                failedUnits: Array((plan.carried.failedUnits + through.map(\.value)).prefix(BatchView.failedUnitsLimit)),
                stoppedBy: stoppedBy, release: release, finished: finished)
            report { try store?.save(batch.id, request) }
        }
        // A finished batch starts over: its job's retry gets the first unit, not a stale checkpoint.
        if let job = options.job, let value = resumeFrom ?? (finished ? units.resumeArgument(for: 1) : nil) {
            report { try store?.reportCheckpoint(job: job, value) }
        }
    }

    private func startHeartbeat(_ plan: Plan) -> Task<Void, Never>? {
        guard let store, let batch = plan.batch, let token = batch.token else { return nil }
        return Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(10))
                if Task.isCancelled { break }
                try? store.heartbeat(batch.id, token: token)
            }
        }
    }

    private func progressRequest(_ counts: BatchCounts, unit: String?) -> ProgressRequest {
        ProgressRequest(
            done: counts.done, total: counts.total,
            message: unit.map { "unit \($0)" + (counts.failed > 0 ? ", \(counts.failed) failed" : "") })
    }

    /// Runs a store call whose failure must not stop the batch: it is shown as a warning.
    private func report(_ call: () throws -> Void) {
        do { try call() } catch { reporter?.handle(.warning("could not record the checkpoint or progress: \(error)")) }
    }

    /// The command line with `--resume-from VALUE` in it.
    func resumeCommand(from value: String) -> String? {
        guard var arguments = options.commandLine, !arguments.isEmpty else { return nil }
        let separator = arguments.firstIndex(of: "--") ?? arguments.endIndex
        var options = Array(arguments[..<separator])
        var index = 0
        while index < options.count {
            if options[index] == "--restart" {
                options.remove(at: index)
            } else if options[index] == "--resume-from" {
                options.removeSubrange(index..<min(index + 2, options.count))
            } else if options[index].hasPrefix("--resume-from=") {
                options.remove(at: index)
            } else {
                index += 1
            }
        }
        arguments = options + ["--resume-from", value] + arguments[separator...]
        return ShellQuoting.join(arguments)
    }
}
