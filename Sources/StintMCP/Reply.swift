import Foundation
import StintCore

/// What the tools return: JSON objects in Stint's dialect (snake_case keys, RFC 3339
/// times, durations in seconds), kept short because an agent reads every byte.
enum Reply {
    /// One job, as `start_job`, `job_status`, `wait_for_job` and `stop_job` report it.
    struct Job: Encodable, Sendable {
        var id: Int64
        var state: JobState
        var command: String
        var description: String?
        var queue: String
        var session: String?
        var exitCode: Int?
        var signal: Int?
        /// Why the last attempt ended.
        var reason: AttemptReason?
        /// Why a job was cancelled before it ran (a failed dependency).
        var endReason: String?
        var duration: Double?
        var attempts: Int
        var timeout: Double?
        var createdAt: Date
        var startedAt: Date?
        var endedAt: Date?
        var stalledAt: Date?
        var stallLine: String?
        /// For waits: why the wait returned.
        var waitReason: WaitReason?
        /// For `output:REGEX` waits: the line that matched.
        var match: String?
        /// The last lines of output.
        var outputTail: String?
        /// Whether `outputTail` was cut to its byte bound.
        var outputTruncated: Bool?
        /// A word on what to do next.
        var note: String?

        init(_ view: JobView) {
            id = view.id
            state = view.state
            command = Reply.shorten(view.command, to: 300)
            description = view.labels["description"]
            queue = view.queue
            session = view.session
            exitCode = view.exitCode
            signal = view.signal
            reason = view.reason
            endReason = view.endReason
            duration = view.duration.map(Reply.seconds)
            attempts = view.attempts
            timeout = view.timeout
            createdAt = view.createdAt
            startedAt = view.startedAt
            endedAt = view.endedAt
            stalledAt = view.stalledAt
            stallLine = view.stallLine
        }

        /// Adds the output tail.
        mutating func attach(_ excerpt: OutputWindow.Excerpt) {
            outputTail = excerpt.text
            outputTruncated = excerpt.truncated ? true : nil
        }
    }

    /// One line of `list_jobs`.
    struct JobLine: Encodable, Sendable {
        var id: Int64
        var state: JobState
        var title: String
        var exitCode: Int?
        var reason: AttemptReason?
        var duration: Double?
        var createdAt: Date

        init(_ view: JobView) {
            id = view.id
            state = view.state
            title = Reply.title(labels: view.labels, command: view.command)
            exitCode = view.exitCode
            reason = view.reason
            duration = view.duration.map(Reply.seconds)
            createdAt = view.createdAt
        }
    }

    /// The answer of `list_jobs`.
    struct Jobs: Encodable, Sendable {
        var session: String
        var jobs: [JobLine]
        /// The limit asked for; when `jobs` has that many, older ones may exist.
        var limit: Int
    }

    /// The answer of `list_schedules`.
    struct Schedules: Encodable, Sendable {
        var session: String
        var schedules: [ScheduleLine]
    }

    /// One schedule, compact.
    struct ScheduleLine: Encodable, Sendable {
        var name: String
        /// `0 3 * * *` or `every 1h`.
        var schedule: String
        var timeZone: String
        var nextFires: [Date]
        var paused: Bool
        var lastJob: Int64?
        var lastState: JobState?
        var lastExitCode: Int?
        var failuresInARow: Int
        var lastFailedJob: Int64?
        var command: String

        init(_ view: ScheduleView) {
            name = view.name
            schedule = view.expression
            timeZone = view.timeZone
            nextFires = view.nextFires
            paused = view.paused
            lastJob = view.lastJob
            lastState = view.lastState
            lastExitCode = view.lastExitCode
            failuresInARow = view.failures
            lastFailedJob = view.lastFailedJob
            command = view.command
        }
    }

    /// The answer of `job_output`. It goes out as text only (no structured copy): the
    /// output is the bulk of it, and an agent's context should get it once.
    struct Output: Encodable, Sendable, TextOnly {
        var id: Int64
        var state: JobState
        /// What was asked for: `tail 50`, `head 10`, `range 0+65536`.
        var selection: String
        var regex: String?
        var text: String
        var lines: Int
        var truncated: Bool
        var nextOffset: Int64?
        var endOfLog: Bool?
        var note: String?
    }

    /// The answer of `ack_notifications`.
    struct Acked: Encodable, Sendable {
        var acked: [Int64]
        var unknown: [Int64]
    }

    /// A pending notification, as every tool result lists it.
    struct PendingNotification: Encodable, Sendable {
        var id: Int64
        var job: Int64
        var kind: NotificationKind
        var state: JobState
        var title: String
        var exitCode: Int?
        var reason: String?
        var message: String?
        var duration: Double?

        init(_ view: NotificationView) {
            id = view.id
            job = view.job
            kind = view.kind
            state = view.state
            title = Reply.title(labels: view.labels, command: view.command)
            exitCode = view.exitCode
            reason = view.reason
            message = view.message.map { Reply.shorten($0, to: 200) }
            duration = view.duration.map(Reply.seconds)
        }
    }

    /// The pending notifications added to every result.
    struct Pending: Encodable, Sendable {
        var pendingNotifications: [PendingNotification]
        /// Pending ones not listed, to keep the result short.
        var pendingOmitted: Int?
        /// Pending ones the daemon dropped because the session's outbox was full.
        var pendingDropped: Int?
        var pendingHint: String
    }

    /// A reply sent as one text block, without `structuredContent`.
    protocol TextOnly {}

    /// A job's title: its `description` label, or its command, shortened.
    static func title(labels: [String: String], command: String) -> String {
        shorten(labels["description"] ?? command, to: 80)
    }

    /// `text` cut to `limit` characters, with an ellipsis when cut.
    static func shorten(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// Seconds to the millisecond.
    static func seconds(_ value: Double) -> Double {
        (value * 1000).rounded() / 1000
    }
}
