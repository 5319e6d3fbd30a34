import Foundation
import StintCore

/// The row operations of ``MemoryJobStore`` over its own copy of the tables.
final class MemoryTransaction: StoreTransaction {
    var tables: MemoryTables

    init(_ tables: MemoryTables) {
        self.tables = tables
    }

    // MARK: Jobs

    /// A job as a read returns it: the environment only where the protocol says so.
    private static func listed(_ job: StoredJob, attempts: Bool) -> StoredJob {
        var job = job
        job.spec.env = [:]
        if !attempts { job.attempts = [] }
        return job
    }

    private static func matches(_ job: StoredJob, _ filter: JobFilter) -> Bool {
        (filter.states.isEmpty || filter.states.contains(job.state))
            && (filter.session == nil || job.spec.session == filter.session)
            && (filter.queue == nil || job.queue == filter.queue)
            && filter.labels.allSatisfy { job.spec.labels[$0.key] == $0.value }
    }

    func job(_ id: Int64, attempts: Bool) throws -> StoredJob? {
        tables.jobs[id].map { Self.listed($0.job, attempts: attempts) }
    }

    func state(of id: Int64) throws -> JobState? { tables.jobs[id]?.job.state }

    func jobs(_ filter: JobFilter) throws -> [StoredJob] {
        let matching = tables.jobs.values.map(\.job).filter { Self.matches($0, filter) }.sorted { $0.id > $1.id }
        return matching.prefix(max(filter.limit, 0)).reversed().map { job in
            var listed = Self.listed(job, attempts: false)
            listed.attempts = job.attempts.last(where: { $0.number == job.attemptCount }).map { [$0] } ?? []
            return listed
        }
    }

    func countJobs(_ filter: JobFilter) throws -> Int {
        tables.jobs.values.count { Self.matches($0.job, filter) }
    }

    func stateCounts(session: String?) throws -> [JobState: Int] {
        var counts: [JobState: Int] = [:]
        for row in tables.jobs.values where session == nil || row.job.spec.session == session {
            counts[row.job.state, default: 0] += 1
        }
        return counts
    }

    func liveCounts(queue: String?, session: String?) throws -> [String: [JobState: Int]] {
        var counts: [String: [JobState: Int]] = [:]
        for row in tables.jobs.values where !row.job.state.isTerminal {
            guard queue == nil || row.job.queue == queue, session == nil || row.job.spec.session == session else { continue }
            counts[row.job.queue, default: [:]][row.job.state, default: 0] += 1
        }
        return counts
    }

    func liveJob(session: String?, unique key: String) throws -> InsertedJob? {
        tables.jobs.values.lazy.map(\.job)
            .filter { $0.spec.unique == key && $0.spec.session == session && !$0.state.isTerminal }
            .min { $0.id < $1.id }
            .map { InsertedJob(id: $0.id, duplicate: true, state: $0.state) }
    }

    func dependents(of job: Int64) throws -> [Int64] { (tables.dependents[job] ?? []).sorted() }

    func insertJob(_ spec: JobSpec, _ admission: JobAdmission, now: Date) throws -> Int64 {
        tables.lastJobID += 1
        let id = tables.lastJobID
        var stored = spec
        stored.queue = spec.queueName
        stored.priority = spec.priority ?? 0
        stored.outputCap = spec.outputCap ?? JobSpec.defaultOutputCap
        stored.retries = spec.retryPolicy.retries
        stored.hold = nil
        stored.delay = nil
        stored.runAt = nil
        let job = StoredJob(
            id: id, state: admission.state, queue: spec.queueName, spec: stored, createdAt: now,
            endedAt: admission.state.isTerminal ? now : nil, priority: spec.priority ?? 0, runAt: admission.runAt,
            pendingDependencies: admission.pending.count, endReason: admission.brokenBy)
        tables.jobs[id] = MemoryTables.JobRow(job: job, ready: admission.ready)
        for dependency in admission.pending { tables.dependents[dependency, default: []].insert(id) }
        return id
    }

    func updateJob(_ id: Int64, _ change: JobChange) throws {
        guard var row = tables.jobs[id] else { return }
        if let state = change.state { row.job.state = state }
        if let ready = change.ready { row.ready = ready }
        if let endedAt = change.endedAt { row.job.endedAt = endedAt }
        if let runAt = change.runAt { row.job.runAt = runAt }
        if let attempts = change.attemptCount { row.job.attemptCount = attempts }
        if let pending = change.pendingDependencies { row.job.pendingDependencies = pending }
        if let endReason = change.endReason { row.job.endReason = endReason }
        if let stop = change.stopRequested { row.job.stopRequested = stop }
        tables.jobs[id] = row
    }

    func promoteDueJobs(now: Date) throws {
        for (id, row) in tables.jobs
        where !row.ready && JobAdmission.isReady(
            state: row.job.state, pendingDependencies: row.job.pendingDependencies, runAt: row.job.runAt, now: now)
        {
            tables.jobs[id]?.ready = true
        }
    }

    func deleteJob(_ id: Int64) throws {
        tables.jobs[id] = nil
        tables.dependents[id] = nil
        for key in tables.dependents.keys { tables.dependents[key]?.remove(id) }
        tables.events.removeAll { $0.job == id }
        // Pending notifications and deliveries outlive the job: they are the outbox.
        tables.notifications = tables.notifications.filter { $0.value.notification.job != id || $0.value.notification.ackedAt == nil }
        tables.deliveries = tables.deliveries.filter { $0.value.job != id || $0.value.status == .pending }
    }

    func pruneJobs(endedBefore cutoff: Date) throws -> [Int64] {
        let ids = tables.jobs.values.filter { $0.job.state.isTerminal && ($0.job.endedAt ?? .distantFuture) <= cutoff }
            .map(\.job.id)
        for id in ids {
            tables.jobs[id] = nil
            for key in tables.dependents.keys { tables.dependents[key]?.remove(id) }
        }
        tables.events.removeAll { $0.at <= cutoff }
        tables.notifications = tables.notifications.filter { ($0.value.notification.ackedAt ?? .distantFuture) > cutoff }
        tables.deliveries = tables.deliveries.filter { $0.value.status == .pending || $0.value.updatedAt > cutoff }
        for (schedule, fires) in tables.fires {
            tables.fires[schedule] = fires.filter { $0.value.job == nil || $0.value.at > cutoff }
        }
        return ids
    }

    func removeDependents(of job: Int64) throws { tables.dependents[job] = nil }

    func removeDependencies(of job: Int64) throws {
        for key in tables.dependents.keys { tables.dependents[key]?.remove(job) }
    }

    func setProgress(_ id: Int64, _ progress: ProgressRequest, now: Date) throws {
        tables.jobs[id]?.job.progress = ProgressView(
            done: progress.done, total: progress.total, message: progress.message, updatedAt: now)
    }

    func setCheckpoint(_ id: Int64, _ value: String, now: Date) throws {
        tables.jobs[id]?.job.checkpoint = value
    }

    // MARK: Attempts

    private func changeAttempt(job: Int64, number: Int, _ change: (inout StoredAttempt) -> Void) {
        guard var row = tables.jobs[job], let index = row.job.attempts.firstIndex(where: { $0.number == number }) else { return }
        change(&row.job.attempts[index])
        tables.jobs[job] = row
    }

    private func attemptIndex(job: Int64, number: Int) -> Int? {
        tables.jobs[job]?.job.attempts.firstIndex { $0.number == number }
    }

    func attemptIsOpen(job: Int64, number: Int) throws -> Bool? {
        attemptIndex(job: job, number: number).map { tables.jobs[job]?.job.attempts[$0].outcome == nil }
    }

    func openAttempts() throws -> [ClaimedJob] {
        tables.jobs.values.sorted { $0.job.id < $1.job.id }.flatMap { row in
            row.job.attempts.filter { $0.outcome == nil }.map { attempt in
                ClaimedJob(
                    id: row.job.id, attempt: attempt.number, queue: row.job.queue, spec: row.job.spec,
                    shimPid: attempt.shimPid, startedAt: attempt.startedAt, node: attempt.instance == nil ? nil : attempt.host)
            }
        }
    }

    func startAttempt(job: Int64, number: Int, worker: WorkerIdentity, now: Date) throws {
        tables.jobs[job]?.job.attempts.append(
            StoredAttempt(number: number, startedAt: now, host: worker.node, instance: worker.instance))
    }

    func endAttempt(_ ending: AttemptEnding, retryAt: Date?) throws {
        changeAttempt(job: ending.jobID, number: ending.attempt) { attempt in
            var outcome = ending.outcome
            if let started = outcome.startedAt { attempt.startedAt = started } else { outcome.startedAt = attempt.startedAt }
            attempt.outcome = outcome
            attempt.shimPid = ending.shimPid ?? attempt.shimPid
            attempt.verdict = ending.verdict
            attempt.retryAt = retryAt
        }
    }

    func abandonAttempt(job: Int64, number: Int, message: String, now: Date) throws {
        changeAttempt(job: job, number: number) { attempt in
            guard attempt.outcome == nil else { return }
            attempt.outcome = AttemptOutcome(reason: .lost, startedAt: attempt.startedAt, endedAt: now, message: message)
        }
    }

    func deleteAttempt(job: Int64, number: Int) throws {
        tables.jobs[job]?.job.attempts.removeAll { $0.number == number }
    }

    func markStalled(job: Int64, number: Int, at: Date, line: String) throws -> Bool {
        guard let index = attemptIndex(job: job, number: number),
            let attempt = tables.jobs[job]?.job.attempts[index], attempt.stalledAt == nil, attempt.outcome == nil
        else { return false }
        changeAttempt(job: job, number: number) { attempt in
            attempt.stalledAt = at
            attempt.stallLine = line
        }
        return true
    }

    // MARK: Claiming

    func runningCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in tables.jobs.values where row.job.state == .running { counts[row.job.queue, default: 0] += 1 }
        return counts
    }

    func readyJobs(queue: String, limit: Int) throws -> [StoredJob] {
        tables.jobs.values.filter { $0.ready && $0.job.state == .queued && $0.job.queue == queue }.map(\.job)
            .sorted { $0.priority != $1.priority ? $0.priority > $1.priority : $0.id < $1.id }
            .prefix(max(0, limit)).map { job in
                var ready = job
                ready.attempts = []
                return ready
            }
    }

    func hasReadyJobs(queue: String) throws -> Bool {
        tables.jobs.values.contains { $0.ready && $0.job.state == .queued && $0.job.queue == queue }
    }

    func nextRunAt() throws -> Date? {
        tables.jobs.values.filter { !$0.ready && $0.job.state == .queued && $0.job.pendingDependencies == 0 }
            .compactMap(\.job.runAt).min()
    }

    // MARK: Queues and events

    func queues() throws -> [QueueRecord] { tables.queues.values.sorted { $0.name < $1.name } }

    func queue(_ name: String) throws -> QueueRecord? { tables.queues[name] }

    func ensureQueue(_ name: String, now: Date) throws {
        if tables.queues[name] == nil { tables.queues[name] = QueueRecord(name: name) }
    }

    func saveQueueSettings(_ name: String, _ settings: QueueSettings, resetPreflight: Bool) throws {
        tables.queues[name]?.settings = settings
        if resetPreflight { tables.queues[name]?.preflight = nil }
    }

    func saveBreaker(_ queue: String, _ breaker: CircuitBreaker) throws { tables.queues[queue]?.breaker = breaker }

    func savePreflight(_ queue: String, _ status: PreflightStatus) throws { tables.queues[queue]?.preflight = status }

    func appendEvent(_ event: EventRecord) throws {
        tables.lastEventID += 1
        tables.events.append(
            EventView(
                id: tables.lastEventID, at: event.at, job: event.job, queue: event.queue, kind: event.kind,
                message: event.message))
    }

    func events(job: Int64?, queue: String?, limit: Int) throws -> [EventView] {
        Array(
            tables.events.filter { (job == nil || $0.job == job) && (queue == nil || $0.queue == queue) }
                .suffix(max(0, limit)))
    }

    func events(after: Int64, session: String?, limit: Int) throws -> [EventView] {
        Array(
            tables.events.filter { event in
                event.id > after
                    && (session == nil || event.job.flatMap { tables.jobs[$0]?.job.spec.session } == session)
            }.prefix(max(0, limit)))
    }

    func lastEventID() throws -> Int64 { tables.events.last?.id ?? 0 }

    func queueGauges() throws -> [String: QueueGauges] {
        var gauges: [String: QueueGauges] = [:]
        for row in tables.jobs.values {
            let job = row.job
            gauges[job.queue, default: QueueGauges()].counts[job.state, default: 0] += 1
            guard row.ready, job.state == .queued else { continue }
            let since = max(job.createdAt, job.runAt ?? job.createdAt)
            gauges[job.queue]!.ready += 1
            gauges[job.queue]!.oldestReady = min(gauges[job.queue]!.oldestReady ?? since, since)
        }
        return gauges
    }

    // MARK: Outbox

    func notifications(session: String?, after: Int64, limit: Int) throws -> NotificationList {
        let pending = tables.notifications.values
            .filter { $0.notification.ackedAt == nil && $0.notification.id > after && (session == nil || $0.session == session) }
            .map(\.notification).sorted { $0.id < $1.id }.prefix(max(0, limit))
        let dropped = session.map { tables.dropped[$0] ?? 0 } ?? tables.dropped.values.reduce(0, +)
        return NotificationList(notifications: Array(pending), dropped: dropped)
    }

    func notificationSession(_ id: Int64) throws -> String? { tables.notifications[id]?.session }

    func pendingNotificationCount(session: String) throws -> Int {
        tables.notifications.values.count { $0.session == session && $0.notification.ackedAt == nil }
    }

    func pendingNotificationTotal() throws -> Int {
        tables.notifications.values.count { $0.notification.ackedAt == nil }
    }

    func insertNotification(_ notification: NotificationView) throws -> Int64? {
        guard let session = notification.session else { return nil }
        let repeated = tables.notifications.values.contains {
            $0.notification.job == notification.job && $0.notification.attempt == notification.attempt
                && $0.notification.kind == notification.kind
        }
        guard !repeated else { return nil }
        tables.lastNotificationID += 1
        var stored = notification
        stored.id = tables.lastNotificationID
        tables.notifications[stored.id] = MemoryTables.NotificationRow(notification: stored, session: session)
        return stored.id
    }

    func dropOldestNotifications(session: String, count: Int) throws {
        let oldest = tables.notifications.values.filter { $0.session == session && $0.notification.ackedAt == nil }
            .map(\.notification.id).sorted().prefix(count)
        for id in oldest { tables.notifications[id] = nil }
        tables.dropped[session, default: 0] += count
    }

    func ackNotification(_ id: Int64, now: Date) throws {
        guard tables.notifications[id]?.notification.ackedAt == nil else { return }
        tables.notifications[id]?.notification.ackedAt = now
    }

    func insertDelivery(
        job: Int64, attempt: Int, kind: NotificationKind, _ delivery: NotificationComposer.Delivery, payload: String,
        now: Date
    ) throws -> Bool {
        let repeated = tables.deliveries.values.contains {
            $0.job == job && $0.attempt == attempt && $0.kind == kind && $0.channel == delivery.channel
                && $0.target == delivery.target
        }
        guard !repeated else { return false }
        tables.lastDeliveryID += 1
        tables.deliveries[tables.lastDeliveryID] = DeliveryView(
            id: tables.lastDeliveryID, job: job, attempt: attempt, kind: kind, channel: delivery.channel,
            target: delivery.target, payload: payload, attempts: 0, status: .pending, nextAt: now, lastError: nil,
            createdAt: now, updatedAt: now)
        return true
    }

    func updateDelivery(_ id: Int64, status: DeliveryStatus, nextAt: Date?, error: String?, now: Date) throws {
        guard var delivery = tables.deliveries[id], delivery.status == .pending else { return }
        delivery.attempts += 1
        delivery.status = status
        delivery.nextAt = nextAt
        delivery.lastError = error
        delivery.updatedAt = now
        tables.deliveries[id] = delivery
    }

    func leaseDelivery(_ id: Int64, until: Date) throws {
        guard tables.deliveries[id]?.status == .pending else { return }
        tables.deliveries[id]?.nextAt = until
    }

    func dueDeliveries(now: Date, limit: Int) throws -> (due: [DeliveryView], damaged: [(id: Int64, reason: String)]) {
        let due = tables.deliveries.values.filter { $0.status == .pending && ($0.nextAt ?? .distantFuture) <= now }
            .sorted { ($0.nextAt ?? .distantFuture, $0.id) < ($1.nextAt ?? .distantFuture, $1.id) }
        return (Array(due.prefix(max(0, limit))), [])
    }

    func nextDeliveryAt() throws -> Date? {
        tables.deliveries.values.filter { $0.status == .pending }.compactMap(\.nextAt).min()
    }

    func deliveries(job: Int64?, limit: Int) throws -> [DeliveryView] {
        let all = tables.deliveries.values.sorted { $0.id < $1.id }
        if let job { return Array(all.filter { $0.job == job }.prefix(max(0, limit))) }
        return Array(all.suffix(max(0, limit)))
    }
}
