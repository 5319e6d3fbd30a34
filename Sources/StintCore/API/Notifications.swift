public import Foundation

/// Sessions: the owner scope of jobs, notifications and summaries.
public enum Session {
    /// The environment variable the CLI reads the session from (`--session` wins).
    public static let environmentVariable = "STINT_SESSION"
    /// The request header that scopes a call on the local socket to one session. On TCP
    /// a session-bound token scopes the call, and the header may only repeat it.
    public static let header = "Stint-Session"
    /// Unacknowledged notifications kept per session; beyond it the oldest are dropped.
    public static let defaultNotificationCap = 1000

    /// Checks a session name: 1 to ``Limits/maxSessionBytes`` bytes, no control
    /// characters, no `/`, not `.` or `..`, and no space at either end. A name is
    /// refused, never altered, so that two spellings cannot name one session.
    public static func validate(_ name: String) throws(StintError) {
        guard !name.isEmpty, name.utf8.count <= Limits.maxSessionBytes else {
            throw StintError(.usage, "a session name has 1 to \(Limits.maxSessionBytes) bytes")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw StintError(.usage, "a session name has no control characters")
        }
        guard !name.contains("/"), name != ".", name != ".." else {
            throw StintError(.usage, "a session name is not a path: \(name)", hint: "use letters, digits and punctuation other than '/'")
        }
        guard name.first?.isWhitespace == false, name.last?.isWhitespace == false else {
            throw StintError(.usage, "a session name does not start or end with a space")
        }
    }
}

/// What a notification tells.
public enum NotificationKind: String, Sendable, Codable, CaseIterable {
    /// The job reached a terminal state: succeeded, failed (timeout and lost included) or cancelled.
    case ended
    /// The job's running attempt was flagged stalled at an interactive prompt.
    case stalled
    /// The job's failure opened its queue's circuit breaker.
    case breakerOpen = "breaker_open"
    /// The job's failure was the last its schedule takes in a row: the schedule is paused
    /// (`--pause-after-failures`).
    case schedulePaused = "schedule_paused"
}

/// A durable record in the outbox: written in the same transaction as the change it
/// reports, kept until acknowledged, at most one per (job, attempt, kind).
public struct NotificationView: Sendable, Codable, Hashable {
    /// The notification id (`stint ack NID`).
    public var id: Int64
    /// The job's session.
    public var session: String?
    /// The job.
    public var job: Int64
    /// The attempt it concerns. A job cancelled while it waited (held, queued, delayed,
    /// backing off, or behind a dependency) names the attempt that will never run.
    public var attempt: Int
    /// What happened.
    public var kind: NotificationKind
    /// The job's state at that moment.
    public var state: JobState
    /// The job's queue.
    public var queue: String
    /// The command as shown by `ls`.
    public var command: String
    /// The job's labels.
    public var labels: [String: String]
    /// The attempt's exit code, when it exited.
    public var exitCode: Int?
    /// The signal that ended the attempt, when one did.
    public var signal: Int?
    /// Why: the attempt's reason (`exited`, `signal`, `timeout`, `cancelled`, `lost`,
    /// `launch_error`), or for a job that never ran, why it was cancelled.
    public var reason: String?
    /// More words on it: a dependency that failed, the prompt a stall waits at, the
    /// failures that opened the breaker.
    public var message: String?
    /// Seconds the attempt ran.
    public var duration: Double?
    /// The last lines of output (at most ``tailLines``).
    public var tail: [String]
    /// The attempt's log file.
    public var log: String?
    /// When it was written.
    public var createdAt: Date
    /// When it was acknowledged; `nil` while pending.
    public var ackedAt: Date?

    /// Lines of output a notification carries.
    public static let tailLines = 10
    /// Bytes of each tail line kept.
    public static let tailLineBytes = 300

    /// Creates a notification.
    public init(
        id: Int64, session: String?, job: Int64, attempt: Int, kind: NotificationKind, state: JobState, queue: String,
        command: String, labels: [String: String] = [:], exitCode: Int? = nil, signal: Int? = nil,
        reason: String? = nil, message: String? = nil, duration: Double? = nil, tail: [String] = [],
        log: String? = nil, createdAt: Date, ackedAt: Date? = nil
    ) {
        self.id = id
        self.session = session
        self.job = job
        self.attempt = attempt
        self.kind = kind
        self.state = state
        self.queue = queue
        self.command = command
        self.labels = labels
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.message = message
        self.duration = duration
        self.tail = tail
        self.log = log
        self.createdAt = createdAt
        self.ackedAt = ackedAt
    }
}

/// `GET /v1/notifications`: the pending notifications, oldest first.
public struct NotificationList: Sendable, Codable {
    /// Pending (unacknowledged) notifications, oldest first.
    public var notifications: [NotificationView]
    /// How many pending notifications were dropped because the session's outbox was full.
    public var dropped: Int
    /// Creates a list.
    public init(notifications: [NotificationView], dropped: Int) {
        self.notifications = notifications
        self.dropped = dropped
    }
}

/// `POST /v1/ack`: acknowledge notifications, which removes them from the pending list.
public struct AckRequest: Sendable, Codable {
    /// The notification ids.
    public var ids: [Int64]
    /// Creates a request.
    public init(ids: [Int64]) { self.ids = ids }
}

/// The answer to ``AckRequest``.
public struct AckResponse: Sendable, Codable {
    /// Ids acknowledged now or before.
    public var acked: [Int64]
    /// Ids that do not exist (or belong to another session).
    public var unknown: [Int64]
    /// Creates a response.
    public init(acked: [Int64], unknown: [Int64]) {
        self.acked = acked
        self.unknown = unknown
    }
}

/// `GET /v1/summary`: what an agent needs in its prompt.
public struct SummaryView: Sendable, Codable {
    /// One running (or waiting) job.
    public struct Active: Sendable, Codable, Hashable {
        public var id: Int64
        public var state: JobState
        /// The `description` label, or the command, shortened.
        public var title: String
        /// Seconds since it started (running) or was added (waiting).
        public var age: Double
        /// The last line of output, shortened.
        public var lastLine: String?
        /// Flagged stalled at this prompt.
        public var stalledAt: String?
        /// What the job last reported with `stint progress` (`1,234/50,000 (2.5%)`).
        public var progress: String?
        /// Creates an entry.
        public init(
            id: Int64, state: JobState, title: String, age: Double, lastLine: String?, stalledAt: String?,
            progress: String? = nil
        ) {
            self.id = id
            self.state = state
            self.title = title
            self.age = age
            self.lastLine = lastLine
            self.stalledAt = stalledAt
            self.progress = progress
        }
    }

    /// One ended job with a pending notification.
    public struct Ended: Sendable, Codable, Hashable {
        public var id: Int64
        /// The notification to acknowledge.
        public var notification: Int64
        public var state: JobState
        public var title: String
        public var exitCode: Int?
        public var reason: String?
        public var duration: Double?
        /// Creates an entry.
        public init(
            id: Int64, notification: Int64, state: JobState, title: String, exitCode: Int?, reason: String?,
            duration: Double?
        ) {
            self.id = id
            self.notification = notification
            self.state = state
            self.title = title
            self.exitCode = exitCode
            self.reason = reason
            self.duration = duration
        }
    }

    /// A schedule whose latest failed run is worth a look.
    public struct Schedule: Sendable, Codable, Hashable {
        public var name: String
        /// Its latest failed run.
        public var lastFailedJob: Int64
        public var exitCode: Int?
        /// Failed runs in a row, up to now (0: it has succeeded since).
        public var failures: Int
        public var paused: Bool
        /// Creates an entry.
        public init(name: String, lastFailedJob: Int64, exitCode: Int?, failures: Int, paused: Bool) {
            self.name = name
            self.lastFailedJob = lastFailedJob
            self.exitCode = exitCode
            self.failures = failures
            self.paused = paused
        }
    }

    /// The session summarised; `nil`: all jobs.
    public var session: String?
    /// Running jobs, oldest first, then waiting ones; at most ``maxEntries``.
    public var active: [Active]
    /// The session's schedules with a failed run, by name; at most ``maxEntries`` (absent
    /// from daemons before schedules).
    public var schedules: [Schedule]?
    /// Ended jobs with pending notifications, oldest first; at most ``maxEntries``.
    public var ended: [Ended]
    /// Entries left out to stay within the bounds.
    public var omitted: Int
    /// The compact text block.
    public var text: String

    /// At most this many entries in each part.
    public static let maxEntries = 10
    /// At most this many characters of text in all.
    public static let maxCharacters = 2000
    /// Characters of a title or output line kept.
    public static let maxFieldCharacters = 60

    /// Creates a summary.
    public init(
        session: String?, active: [Active], ended: [Ended], omitted: Int, text: String, schedules: [Schedule] = []
    ) {
        self.schedules = schedules
        self.session = session
        self.active = active
        self.ended = ended
        self.omitted = omitted
        self.text = text
    }
}

/// `POST /v1/tokens`: create an API token for TCP clients.
public struct TokenRequest: Sendable, Codable {
    /// Bind the token to this session: its holder sees only that session's jobs.
    public var session: String?
    /// Creates a request.
    public init(session: String?) { self.session = session }
}

/// An API token. The secret is returned once, at creation; the store keeps its hash.
public struct TokenView: Sendable, Codable {
    public var id: Int64
    /// The secret (`STINT_TOKEN`), only in the answer to its creation.
    public var token: String?
    public var session: String?
    public var createdAt: Date
    /// When it was revoked; `nil`: it is valid.
    public var revokedAt: Date?
    /// Creates a view.
    public init(id: Int64, token: String?, session: String?, createdAt: Date, revokedAt: Date? = nil) {
        self.id = id
        self.token = token
        self.session = session
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}
