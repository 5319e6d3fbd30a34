public import Foundation

/// Queue names: the default one and the rule for new ones.
public enum QueueName {
    /// The queue of jobs added without `--queue`.
    public static let `default` = "default"

    /// Checks a queue name: 1 to 64 of `A-Z a-z 0-9 . _ -`; throws `E_USAGE`.
    public static func validate(_ name: String) throws(StintError) {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed else {
            throw StintError(.usage, "invalid queue name \"\(name)\"", hint: "use 1 to 64 letters, digits, '.', '_' or '-'")
        }
    }
}

/// A queue's settings, as stored.
public struct QueueSettings: Sendable, Hashable, Codable {
    /// The most jobs of this queue running at once; 0: no limit beyond the daemon's `--parallel`.
    public var concurrency: Int
    /// A paused queue claims nothing; its running jobs go on.
    public var paused: Bool
    /// The circuit breaker's threshold and pause.
    public var breaker: CircuitBreaker.Settings
    /// A shell command that must pass (exit 0) before jobs are claimed; `nil`: none.
    public var preflight: String?
    /// Seconds a preflight result is trusted.
    public var preflightTTL: Double
    /// A webhook that receives every notification of the queue's jobs; `nil`: none.
    public var notify: String?
    /// A shell command run when any job of the queue ends; `nil`: none.
    public var onEnd: String?

    /// Creates settings.
    public init(
        concurrency: Int, paused: Bool, breaker: CircuitBreaker.Settings, preflight: String?, preflightTTL: Double,
        notify: String? = nil, onEnd: String? = nil
    ) {
        self.concurrency = concurrency
        self.paused = paused
        self.breaker = breaker
        self.preflight = preflight
        self.preflightTTL = preflightTTL
        self.notify = notify
        self.onEnd = onEnd
    }
}

/// `POST /v1/queues/{name}`: change some of a queue's settings (creating it if needed).
/// Fields left `nil` keep their value; `preflight: ""` removes the preflight.
public struct QueueUpdate: Sendable, Hashable, Codable {
    public var concurrency: Int?
    public var paused: Bool?
    public var breakerThreshold: Int?
    public var breakerPause: Double?
    public var preflight: String?
    public var preflightTTL: Double?
    /// `""` removes the webhook.
    public var notify: String?
    /// `""` removes the command hook.
    public var onEnd: String?

    /// Creates an update.
    public init(
        concurrency: Int? = nil, paused: Bool? = nil, breakerThreshold: Int? = nil, breakerPause: Double? = nil,
        preflight: String? = nil, preflightTTL: Double? = nil, notify: String? = nil, onEnd: String? = nil
    ) {
        self.notify = notify
        self.onEnd = onEnd
        self.concurrency = concurrency
        self.paused = paused
        self.breakerThreshold = breakerThreshold
        self.breakerPause = breakerPause
        self.preflight = preflight
        self.preflightTTL = preflightTTL
    }

    // StintJSON writes `preflightTTL` as `preflight_ttl` but reads that key back as
    // `preflightTtl`; spelled so, the TTL survives the trip from the CLI to the daemon.
    private enum CodingKeys: String, CodingKey {
        case concurrency, paused, breakerThreshold, breakerPause, preflight, notify, onEnd
        case preflightTTL = "preflightTtl"
    }

    /// Checks the values; throws `E_USAGE`.
    public func validate() throws(StintError) {
        if let concurrency, !(0...100_000).contains(concurrency) {
            throw StintError(.usage, "--concurrency must be between 0 (no limit) and 100000")
        }
        if let breakerThreshold, !(0...1_000_000).contains(breakerThreshold) {
            throw StintError(.usage, "--breaker-threshold must be 0 (off) or a positive count")
        }
        try Limits.checkDuration(breakerPause, "--breaker-pause", exclusive: true)
        try Limits.checkDuration(preflightTTL, "--preflight-ttl", minimum: 1)
        try Limits.checkText(preflight, "--preflight", maximum: Limits.maxHookBytes)
        try Limits.checkText(notify, "--notify", maximum: Limits.maxHookBytes)
        try Limits.checkText(onEnd, "--on-end", maximum: Limits.maxHookBytes)
        if let notify, !notify.isEmpty { try Hooks.validateURL(notify) }
        if let onEnd, !onEnd.isEmpty { try Hooks.validateCommand(onEnd) }
    }

    /// `settings` with this update applied.
    public func applied(to settings: QueueSettings) -> QueueSettings {
        var result = settings
        if let concurrency { result.concurrency = concurrency }
        if let paused { result.paused = paused }
        if let breakerThreshold { result.breaker.threshold = breakerThreshold }
        if let breakerPause { result.breaker.pause = breakerPause }
        if let preflight { result.preflight = preflight.isEmpty ? nil : preflight }
        if let preflightTTL { result.preflightTTL = preflightTTL }
        if let notify { result.notify = notify.isEmpty ? nil : notify }
        if let onEnd { result.onEnd = onEnd.isEmpty ? nil : onEnd }
        return result
    }
}

/// One queue as `stint queue ls` shows it.
public struct QueueView: Sendable, Hashable, Codable {
    public var name: String
    public var concurrency: Int
    public var paused: Bool
    public var running: Int
    public var queued: Int
    public var held: Int
    public var breaker: BreakerView
    public var preflight: PreflightView?
    /// The queue's webhook.
    public var notify: String?
    /// The queue's command hook.
    public var onEnd: String?

    /// Creates a view.
    public init(
        name: String, concurrency: Int, paused: Bool, running: Int, queued: Int, held: Int, breaker: BreakerView,
        preflight: PreflightView?, notify: String? = nil, onEnd: String? = nil
    ) {
        self.notify = notify
        self.onEnd = onEnd
        self.name = name
        self.concurrency = concurrency
        self.paused = paused
        self.running = running
        self.queued = queued
        self.held = held
        self.breaker = breaker
        self.preflight = preflight
    }
}

/// A queue's breaker in `queue ls`.
public struct BreakerView: Sendable, Hashable, Codable {
    public var state: CircuitBreaker.State
    /// 0: the breaker is off.
    public var threshold: Int
    public var pause: Double
    /// Consecutive transient failures so far.
    public var streak: Int
    /// When an open breaker goes half-open.
    public var openUntil: Date?
    /// Seconds until then.
    public var secondsLeft: Double?
    /// The half-open probe job.
    public var probeJob: Int64?

    /// Creates a view.
    public init(
        state: CircuitBreaker.State, threshold: Int, pause: Double, streak: Int, openUntil: Date?,
        secondsLeft: Double?, probeJob: Int64?
    ) {
        self.state = state
        self.threshold = threshold
        self.pause = pause
        self.streak = streak
        self.openUntil = openUntil
        self.secondsLeft = secondsLeft
        self.probeJob = probeJob
    }
}

/// A queue's preflight in `queue ls`.
public struct PreflightView: Sendable, Hashable, Codable {
    public var command: String
    public var ttl: Double
    /// `passed`, `failed`, or `unchecked`.
    public var status: String
    public var checkedAt: Date?
    public var reason: String?

    /// Creates a view.
    public init(command: String, ttl: Double, status: String, checkedAt: Date?, reason: String?) {
        self.command = command
        self.ttl = ttl
        self.status = status
        self.checkedAt = checkedAt
        self.reason = reason
    }
}

/// Something that happened to a job or a queue: a retry scheduled, a breaker
/// transition, a stall, a preflight result, a dependency's failure.
public struct EventView: Sendable, Hashable, Codable {
    public var id: Int64
    public var at: Date
    public var job: Int64?
    public var queue: String?
    /// `retry_scheduled`, `breaker_open`, `breaker_half_open`, `breaker_closed`, `stalled`,
    /// `preflight_failed`, `preflight_passed`, `dependency_failed`, `stop_deferred`.
    public var kind: String
    public var message: String

    /// Creates a view.
    public init(id: Int64, at: Date, job: Int64?, queue: String?, kind: String, message: String) {
        self.id = id
        self.at = at
        self.job = job
        self.queue = queue
        self.kind = kind
        self.message = message
    }
}
