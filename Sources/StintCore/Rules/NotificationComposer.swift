public import Foundation

/// What a change tells its listeners: the notification of a job's end, of a stall at a
/// prompt or of a breaker opening, and the deliveries (webhooks, command hooks) it queues.
///
/// A notification is stored for a job with a session (its outbox, bounded per session);
/// a delivery is queued for each hook of the job and of its queue. Both are written in
/// the transaction of the change they report, so a change and its notice are durable
/// together or not at all.
public enum NotificationComposer {
    /// Where a notification goes besides its session's outbox.
    public struct Delivery: Sendable, Hashable {
        /// A webhook or a command hook.
        public var channel: DeliveryChannel
        /// The URL or the command.
        public var target: String
    }

    /// Whether anyone hears of `job`: it has a session, or it or its `queue` has a hook.
    public static func isHeard(_ job: StoredJob, queue: QueueSettings?) -> Bool {
        job.spec.session != nil || job.spec.notify != nil || job.spec.onEnd != nil || queue?.notify != nil
            || queue?.onEnd != nil
    }

    /// `job` reached a terminal state at `now`; `attempt`: the attempt that ended (one past
    /// the last for a job that ended without running again).
    public static func ended(_ job: StoredJob, attempt: Int, tail: [String], log: String?, now: Date) -> NotificationView {
        let last = job.attempts.last(where: { $0.number == attempt })
        let outcome = last?.outcome
        return NotificationView(
            id: 0, session: job.spec.session, job: job.id, attempt: attempt, kind: .ended, state: job.state,
            queue: job.queue, command: job.spec.displayCommand, labels: job.spec.labels, exitCode: outcome?.exitCode,
            signal: outcome?.signal, reason: outcome?.reason.rawValue ?? (job.state == .cancelled ? "cancelled" : nil),
            message: job.endReason ?? outcome?.message,
            duration: outcome.map { $0.endedAt.timeIntervalSince($0.startedAt ?? last?.startedAt ?? $0.endedAt) },
            tail: trimmed(tail), log: log, createdAt: now)
    }

    /// `job`'s running `attempt` was flagged stalled at `line`.
    public static func stalled(_ job: StoredJob, attempt: Int, line: String, now: Date) -> NotificationView {
        let started = job.attempts.last(where: { $0.number == attempt })?.startedAt ?? now
        return NotificationView(
            id: 0, session: job.spec.session, job: job.id, attempt: attempt, kind: .stalled, state: job.state,
            queue: job.queue, command: job.spec.displayCommand, labels: job.spec.labels, reason: "stalled",
            message: "waiting at a prompt: \(line)", duration: now.timeIntervalSince(started), tail: trimmed([line]),
            createdAt: now)
    }

    /// `job`'s failure in `attempt` opened its queue's breaker, for `reason`.
    public static func breakerOpened(
        _ job: StoredJob, attempt: Int, reason: String, tail: [String], log: String?, now: Date
    ) -> NotificationView {
        let outcome = job.attempts.last(where: { $0.number == attempt })?.outcome
        return NotificationView(
            id: 0, session: job.spec.session, job: job.id, attempt: attempt, kind: .breakerOpen, state: job.state,
            queue: job.queue, command: job.spec.displayCommand, labels: job.spec.labels, exitCode: outcome?.exitCode,
            signal: outcome?.signal, reason: "breaker_open", message: "queue \(job.queue): \(reason)",
            tail: trimmed(tail), log: log, createdAt: now)
    }

    /// `job`'s failure, the `failures`-th in a row, paused its schedule `schedule` at `now`.
    public static func schedulePaused(
        _ job: StoredJob, attempt: Int, schedule: String, failures: Int, now: Date
    ) -> NotificationView {
        let outcome = job.attempts.last(where: { $0.number == attempt })?.outcome
        return NotificationView(
            id: 0, session: job.spec.session, job: job.id, attempt: attempt, kind: .schedulePaused, state: job.state,
            queue: job.queue, command: job.spec.displayCommand, labels: job.spec.labels, exitCode: outcome?.exitCode,
            signal: outcome?.signal, reason: "schedule_paused",
            message: "schedule \(schedule) paused after \(failures) failed runs in a row; `stint schedule resume \(schedule)` resumes it",
            tail: [], log: nil, createdAt: now)
    }

    /// The deliveries of `notification` about `job` in a queue set as `queue`: the
    /// webhooks of the job and its queue for every kind; their command hooks for ends and
    /// schedule pauses only.
    public static func deliveries(of notification: NotificationView, job: StoredJob, queue: QueueSettings?) -> [Delivery] {
        var targets: [Delivery] = []
        for url in [job.spec.notify, queue?.notify].compactMap({ $0 }) {
            targets.append(Delivery(channel: .webhook, target: url))
        }
        if notification.kind == .ended || notification.kind == .schedulePaused {
            for command in [job.spec.onEnd, queue?.onEnd].compactMap({ $0 }) {
                targets.append(Delivery(channel: .command, target: command))
            }
        }
        return targets
    }

    /// How many of a session's oldest pending notifications to drop so that `pending`
    /// fits within `cap`.
    public static func excess(pending: Int, cap: Int) -> Int { max(0, pending - max(1, cap)) }

    /// At most ``NotificationView/tailLines`` lines, each at most ``NotificationView/tailLineBytes``.
    public static func trimmed(_ lines: [String]) -> [String] {
        lines.suffix(NotificationView.tailLines).map { line in
            guard line.utf8.count > NotificationView.tailLineBytes else { return line }
            return String(decoding: line.utf8.prefix(NotificationView.tailLineBytes), as: UTF8.self) + "…"
        }
    }
}
