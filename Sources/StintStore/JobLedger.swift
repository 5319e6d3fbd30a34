public import Foundation
public import StintCore

/// The engine's store: every method is one transaction of a ``JobStore`` backend, in
/// which StintCore's rules decide and the backend's row operations apply what they decide.
///
/// When a method returns, what it did is durable; when it throws, it did nothing. State
/// changes are checked against ``JobStateMachine``, and an illegal one throws `E_CONFLICT`
/// without writing. A failure of the storage throws `E_UNAVAILABLE` (see ``JobStore``).
/// Safe to call from any task: the backend serialises what must be.
public final class JobLedger: Sendable {
    /// The backend.
    public let store: any JobStore
    /// Pending notifications kept per session; beyond it the oldest are dropped.
    public let notificationCap: Int

    /// Told how long each transaction took, for `/metrics`; `nil`: nobody.
    public let observer: (any TransactionObserver)?

    /// A ledger over `store`, keeping at most `notificationCap` pending notifications per
    /// session, telling `observer` how long each transaction took.
    public init(
        _ store: any JobStore, notificationCap: Int = Session.defaultNotificationCap,
        observer: (any TransactionObserver)? = nil
    ) {
        self.store = store
        self.notificationCap = max(1, notificationCap)
        self.observer = observer
    }

    /// `body` in a write transaction of the backend, timed for the observer.
    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        guard let observer else { return try await store.write(body) }
        let start = ContinuousClock.now
        defer { observer.transaction(write: true, seconds: Self.seconds(since: start)) }
        return try await store.write(body)
    }

    /// `body` in a read transaction of the backend, timed for the observer.
    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReading) throws -> T) async throws -> T {
        guard let observer else { return try await store.read(body) }
        let start = ContinuousClock.now
        defer { observer.transaction(write: false, seconds: Self.seconds(since: start)) }
        return try await store.read(body)
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// The backend's location, for `daemon status`.
    public var location: String { store.location }

    // MARK: Adding

    /// Stores `specs` as new jobs and returns them in order. A spec whose `unique` key
    /// matches a job of its session that is held, queued or running returns that job
    /// (`duplicate`) and adds nothing. Unknown `after` ids throw `E_NOT_FOUND` and add
    /// nothing; a failed or cancelled one cancels the new job at once.
    public func insert(_ specs: [JobSpec], now: Date) async throws -> [InsertedJob] {
        try await insert(specs, now: now, thenClaim: nil).inserted
    }

    /// ``insert(_:now:)``, then, in the same transaction, the claim `claim` asks for (see
    /// ``claim(limit:worker:now:)``): a job added while a slot is free starts with one commit.
    public func insert(
        _ specs: [JobSpec], now: Date, thenClaim claim: ClaimRequest?
    ) async throws -> (inserted: [InsertedJob], claim: ClaimResult?) {
        let cap = notificationCap
        return try await write { tx in
            let inserted = try Self.insert(specs, now: now, cap: cap, tx)
            let claimed = try claim.map { try Self.claim(limit: $0.limit, worker: $0.worker, now: $0.now, cap: cap, tx) }
            return (inserted, claimed)
        }
    }

    static func insert(_ specs: [JobSpec], now: Date, cap: Int, _ tx: any StoreTransaction) throws -> [InsertedJob] {
        var knownQueues: Set<String> = []
        var result: [InsertedJob] = []
        result.reserveCapacity(specs.count)
        for spec in specs {
            // Keys are per session: another session's live job with this key is
            // neither found nor told of.
            if let key = spec.unique, let existing = try tx.liveJob(session: spec.session, unique: key) {
                result.append(existing)
                continue
            }
            let queue = spec.queueName
            if knownQueues.insert(queue).inserted { try tx.ensureQueue(queue, now: now) }
            var dependencies: [(id: Int64, state: JobState?)] = []
            for id in Set(spec.after ?? []) { dependencies.append((id, try tx.state(of: id))) }
            let admission = try JobAdmission.admit(spec, dependencies: dependencies, now: now)
            var stored = spec
            // A job cancelled at once holds no key: the next add with it is a new job.
            if admission.brokenBy != nil { stored.unique = nil }
            let id = try tx.insertJob(stored, admission, now: now)
            try tx.appendEvent(LiveEvents.added(id, queue: queue, state: admission.state, now: now))
            if let brokenBy = admission.brokenBy {
                try tx.appendEvent(
                    EventRecord(job: id, queue: queue, kind: "dependency_failed", message: brokenBy, at: now))
                var told = FinishResult(job: try Self.fetch(id, tx))
                try Self.tellEnded(attempt: 1, tail: [], log: nil, now: now, cap: cap, tx, into: &told)
            }
            result.append(InsertedJob(id: id, duplicate: false, state: admission.state))
        }
        return result
    }

    // MARK: Reading jobs

    /// The job with `id` and all its attempts, or `nil`.
    public func job(_ id: Int64) async throws -> StoredJob? {
        try await read { tx in try tx.job(id, attempts: true) }
    }

    /// The jobs `ids` with all their attempts, in order (`nil` for an id with no job), read
    /// over one snapshot: a `wait` on thousands of jobs reads them at once, not one by one.
    public func jobs(_ ids: [Int64]) async throws -> [StoredJob?] {
        try await read { tx in try ids.map { try tx.job($0, attempts: true) } }
    }

    /// The newest `filter.limit` jobs matching `filter`, in ascending id order, each with its last attempt.
    public func list(_ filter: JobFilter) async throws -> [StoredJob] {
        try await read { tx in try tx.jobs(filter) }
    }

    /// How many jobs match `filter`, its limit aside.
    public func count(_ filter: JobFilter) async throws -> Int {
        try await read { tx in try tx.countJobs(filter) }
    }

    /// The number of jobs in each state; of `session`'s jobs only, when given.
    public func counts(session: String?) async throws -> [JobState: Int] {
        try await read { tx in try tx.stateCounts(session: session) }
    }

    /// Recent events, newest last, of one job, one queue, or all.
    public func events(job: Int64?, queue: String?, limit: Int) async throws -> [EventView] {
        try await read { tx in try tx.events(job: job, queue: queue, limit: max(0, limit)) }
    }

    /// Events above id `after`, oldest first (see ``StoreReading/events(after:session:limit:)``).
    public func events(after: Int64, session: String?, limit: Int) async throws -> [EventView] {
        try await read { tx in try tx.events(after: after, session: session, limit: max(0, limit)) }
    }

    /// The id of the newest event; 0 when there is none.
    public func lastEventID() async throws -> Int64 {
        try await read { tx in try tx.lastEventID() }
    }

    /// How many notifications wait to be acknowledged, in every session.
    public func pendingNotificationTotal() async throws -> Int {
        try await read { tx in try tx.pendingNotificationTotal() }
    }

    /// Each queue's job gauges (see ``StoreReading/queueGauges()``).
    public func queueGauges() async throws -> [String: QueueGauges] {
        try await read { tx in try tx.queueGauges() }
    }

    // MARK: Removing

    /// Deletes an ended job. Throws `E_NOT_FOUND` or `E_CONFLICT` (not ended) and deletes nothing then.
    public func delete(_ id: Int64) async throws {
        try await write { tx in
            guard let job = try tx.job(id, attempts: false) else { throw StintError.jobNotFound(id) }
            let state = try tx.state(of: id)
            guard let state, state.isTerminal else {
                throw StintError(
                    .conflict, "job \(id) is \(state?.rawValue ?? job.state.rawValue); only ended jobs can be removed",
                    hint: "stop it first with `stint stop \(id)`")
            }
            try tx.deleteJob(id)
        }
    }

    /// Deletes every ended job that ended before `cutoff`; returns their ids.
    public func prune(endedBefore cutoff: Date) async throws -> [Int64] {
        try await write { tx in try tx.pruneJobs(endedBefore: cutoff).sorted() }
    }

    // MARK: What running jobs report

    /// Marks a running job as being stopped, so that a failure of its attempt ends it
    /// `cancelled` instead of retrying it.
    public func requestStop(_ id: Int64) async throws {
        try await write { tx in
            guard try tx.state(of: id) == .running else { return }
            try tx.updateJob(id, JobChange(stopRequested: true))
        }
    }

    /// Records a running job's progress (`stint progress`); `E_CONFLICT` unless it runs.
    public func setProgress(_ id: Int64, _ progress: ProgressRequest, now: Date) async throws {
        try await write { tx in
            try Self.requireRunning(id, tx)
            try tx.setProgress(id, progress, now: now)
            try tx.appendEvent(LiveEvents.progress(id, progress, now: now))
        }
    }

    /// Records a job's checkpoint (`stint checkpoint`); `E_CONFLICT` unless it runs.
    public func setCheckpoint(_ id: Int64, _ value: String, now: Date) async throws {
        try await write { tx in
            try Self.requireRunning(id, tx)
            try tx.setCheckpoint(id, value, now: now)
        }
    }

    // MARK: Helpers for the transactions

    /// The job with all its attempts; `E_NOT_FOUND` if it is gone.
    static func fetch(_ id: Int64, _ tx: any StoreReading) throws -> StoredJob {
        guard let job = try tx.job(id, attempts: true) else { throw StintError.jobNotFound(id) }
        return job
    }

    /// The state `event` takes a job in `state` to; `E_CONFLICT` if the state machine forbids it.
    @discardableResult
    static func check(_ state: JobState, _ event: JobEvent, id: Int64) throws(StintError) -> JobState {
        guard let next = JobStateMachine.next(from: state, on: event) else {
            throw StintError(.conflict, "job \(id) is \(state.rawValue); cannot \(event.rawValue) it")
        }
        return next
    }

    private static func requireRunning(_ id: Int64, _ tx: any StoreReading) throws {
        let state = try tx.state(of: id)
        guard state != .running else { return }
        guard let job = try tx.job(id, attempts: false) else { throw StintError.jobNotFound(id) }
        throw StintError(
            .conflict, "job \(id) is \(state?.rawValue ?? job.state.rawValue), not running: only a running job reports progress")
    }
}
