public import Foundation

/// The events of a job's life that the live stream (`GET /v1/events` as server-sent
/// events) carries beside the others (breaker transitions, preflight results, stalls,
/// retries, schedule fires): each stored in the transaction of the change it tells of, so
/// that a stream resumed by `Last-Event-ID` after a restart misses none.
public enum LiveEvents {
    /// `added`: a job was stored, in its first state (`queued`, `held`, `waiting`, `cancelled`).
    public static func added(_ id: Int64, queue: String, state: JobState, now: Date) -> EventRecord {
        EventRecord(job: id, queue: queue, kind: "added", message: state.rawValue, at: now)
    }

    /// `started`: attempt `number` was claimed by `node`.
    public static func started(_ id: Int64, queue: String, attempt number: Int, node: String, now: Date) -> EventRecord {
        EventRecord(job: id, queue: queue, kind: "started", message: "attempt \(number) on \(node)", at: now)
    }

    /// `ended`: the job reached its terminal state; the message starts with the state.
    public static func ended(_ job: StoredJob, now: Date) -> EventRecord {
        var message = job.state.rawValue
        if let outcome = job.attempts.last?.outcome {
            switch outcome.reason {
            case .exited: message += outcome.exitCode.map { ": exit \($0)" } ?? ""
            case .signal: message += outcome.signal.map { ": signal \($0)" } ?? ": signal"
            default: message += ": \(outcome.reason.rawValue)"
            }
        } else if let reason = job.endReason {
            message += ": \(reason)"
        }
        return EventRecord(job: job.id, queue: job.queue, kind: "ended", message: String(message.prefix(500)), at: now)
    }

    /// `released` or `retried`: a held job was released, or an ended one queued to run
    /// again.
    public static func requeued(_ id: Int64, queue: String, by event: JobEvent, now: Date) -> EventRecord {
        EventRecord(
            job: id, queue: queue, kind: event == .retry ? "retried" : "released", message: "queued", at: now)
    }

    /// `progress`: a running job reported how far it is.
    public static func progress(_ id: Int64, _ progress: ProgressRequest, now: Date) -> EventRecord {
        var message = progress.total.map { "\(progress.done)/\($0)" } ?? "\(progress.done)"
        if let text = progress.message, !text.isEmpty { message += " \(text.prefix(200))" }
        return EventRecord(job: id, queue: nil, kind: "progress", message: message, at: now)
    }

    /// `notification`: a notification was stored in the job's session's outbox.
    public static func notification(_ notification: NotificationView, id: Int64, job: Int64, queue: String, now: Date) -> EventRecord {
        EventRecord(
            job: job, queue: queue, kind: "notification",
            message: "\(notification.kind.rawValue) (notification \(id))", at: now)
    }
}
