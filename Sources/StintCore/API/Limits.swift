public import Foundation

/// A request body the daemon checks against ``Limits`` right after decoding it, before
/// it reaches the engine.
public protocol ValidatedRequest {
    /// Throws `E_USAGE` naming the first value out of bounds.
    func validate() throws(StintError)
}

/// The bounds every number, list and string a client sends is held to at the API
/// boundary. A value outside them is refused with `E_USAGE` (exit 64) before anything
/// is stored, so no later computation (a wake-up, a backoff, a deadline) can overflow.
/// README's "Limits" section lists them; keep the two in step.
public enum Limits {
    /// The longest duration any option takes (`--timeout`, `--delay`, `--backoff`,
    /// `--stall-after`, `--grace`, `--breaker-pause`, `--preflight-ttl`, `wait --timeout`,
    /// `idle:DUR`, `prune --older-than`): 3650 days, about ten years.
    public static let maxDuration: Double = 3650 * 86400
    /// The furthest `--at` may lie in the future: ``maxDuration`` from now.
    public static let maxRunAhead: Double = maxDuration
    /// Priorities run from -1,000,000 to 1,000,000.
    public static let priorities: ClosedRange<Int> = -1_000_000...1_000_000
    /// The largest `--output-cap`: 1 TiB.
    public static let maxOutputCap: Int64 = 1 << 40
    /// Jobs one `POST /v1/jobs` may add (`add --from`): 100,000.
    public static let maxJobsPerAdd = 100_000
    /// Ids one request may name (`stop`, `rm`, `wait`, `ack`, `--after`, …): 100,000.
    public static let maxIDsPerRequest = 100_000
    /// Labels per job: 64, each key at most 128 bytes and each value at most 1,024.
    public static let maxLabels = 64
    /// Bytes of a label key.
    public static let maxLabelKeyBytes = 128
    /// Bytes of a label value.
    public static let maxLabelValueBytes = 1024
    /// Bytes of a session name: 200.
    public static let maxSessionBytes = 200
    /// Bytes of one argument, or of the shell string, or of one `KEY=VALUE` of the
    /// environment: Linux's `MAX_ARG_STRLEN` (32 pages, 131,072 bytes), which `execve`
    /// refuses above.
    public static let maxArgumentBytes = 131_072
    /// Bytes of a working directory: `PATH_MAX`, 4,096.
    public static let maxPathBytes = 4096
    /// Bytes of a regular expression (`--transient-pattern`, `--until output:`): 4,096.
    public static let maxPatternBytes = 4096
    /// Bytes of a hook command, a preflight command or a webhook URL: 8,192.
    public static let maxHookBytes = 8192
    /// Signal numbers `stint kill` may send: 1 to 64.
    public static let signals: ClosedRange<Int32> = 1...64
    /// Lines `logs --head N` / `--tail N` may ask for: 10,000,000.
    public static let maxLogLines: Int64 = 10_000_000
    /// Bytes `logs --head` / `--tail` answer at most, whatever N is: 16 MiB (the end of
    /// the output for `--tail`, its start for `--head`).
    public static let maxLogWindowBytes = 16 << 20
    /// Rows one listing answers at most (`ls --limit`, events, notifications): 100,000.
    public static let maxListLimit: Int64 = 100_000
    /// The largest count or position a batch or a progress report carries: 2^53, the
    /// largest integer JSON readers everywhere hold exactly.
    public static let maxCount: Int64 = 1 << 53

    /// Refuses a duration below `minimum` (0 unless given) or above ``maxDuration``; `nil` passes.
    /// `name` is how the user wrote the option, such as `--timeout`.
    public static func checkDuration(
        _ seconds: Double?, _ name: String, minimum: Double = 0, exclusive: Bool = false
    ) throws(StintError) {
        guard let seconds else { return }
        guard seconds.isFinite else { throw StintError(.usage, "\(name) must be a finite duration") }
        if seconds < 0 {
            throw StintError(.usage, "\(name) must not be negative (got \(seconds.formatted(.number.grouping(.never))) s)")
        }
        if exclusive ? seconds <= minimum : seconds < minimum {
            let bound = minimum == 0 ? "above 0" : "at least \(minimum.formatted(.number.grouping(.never))) s"
            throw StintError(.usage, "\(name) must be \(bound)")
        }
        guard seconds <= maxDuration else {
            throw StintError(
                .usage, "\(name) is too long: at most \(Int(maxDuration / 86400)) days",
                hint: "durations are bounded so that every deadline stays representable")
        }
    }

    /// Refuses a count outside `range`.
    public static func checkCount<T: BinaryInteger>(_ value: T?, _ name: String, _ range: ClosedRange<T>) throws(StintError) {
        guard let value, !range.contains(value) else { return }
        throw StintError(.usage, "\(name) must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
    }

    /// Refuses more than `maximum` elements.
    public static func checkLength(_ count: Int, _ name: String, maximum: Int) throws(StintError) {
        guard count > maximum else { return }
        throw StintError(.usage, "\(name) has \(count) elements; at most \(maximum)")
    }

    /// Refuses a string over `maximum` bytes (UTF-8) or holding a NUL byte.
    public static func checkText(_ text: String?, _ name: String, maximum: Int) throws(StintError) {
        guard let text else { return }
        if text.utf8.count > maximum { throw StintError(.usage, "\(name) is \(text.utf8.count) bytes; at most \(maximum)") }
        if text.utf8.contains(0) { throw StintError(.usage, "\(name) contains a NUL byte") }
    }

    /// Refuses a moment more than ``maxRunAhead`` after `now` or before 1970.
    public static func checkMoment(_ date: Date?, _ name: String, now: Date) throws(StintError) {
        guard let date else { return }
        guard date.timeIntervalSince1970 >= 0, date.timeIntervalSince(now) <= maxRunAhead else {
            throw StintError(.usage, "\(name) must lie between 1970 and \(Int(maxRunAhead / 86400)) days from now")
        }
    }

    /// The longest single sleep the daemon takes: a wake-up further out is taken in
    /// steps of this length (one day), so no stored time, however far, can overflow a
    /// timer — also for rows written before these bounds existed.
    public static let maxSleep: Double = 86400

    /// `seconds` clamped to 0 … ``maxSleep``, NaN as 0: safe for `Task.sleep`.
    public static func sleepable(_ seconds: Double) -> Double {
        guard seconds.isFinite else { return seconds > 0 ? maxSleep : 0 }
        return min(max(seconds, 0), maxSleep)
    }
}

extension WaitRequest: ValidatedRequest {}
extension IDsRequest: ValidatedRequest {}
extension SignalRequest: ValidatedRequest {}
extension PruneRequest: ValidatedRequest {}
extension QueueUpdate: ValidatedRequest {}
extension ProgressRequest: ValidatedRequest {}
extension CheckpointRequest: ValidatedRequest {}
extension BatchAcquireRequest: ValidatedRequest {}
extension BatchSaveRequest: ValidatedRequest {}

extension AddRequest: ValidatedRequest {
    /// Checks the count of jobs; each job is checked by the engine (``JobSpec/validate(now:argumentSpace:)``).
    public func validate() throws(StintError) {
        guard !jobs.isEmpty else { throw StintError(.usage, "no jobs to add") }
        try Limits.checkLength(jobs.count, "the list of jobs", maximum: Limits.maxJobsPerAdd)
    }
}

extension AckRequest: ValidatedRequest {
    /// Checks the ids.
    public func validate() throws(StintError) { try IDsRequest.validate(ids, what: "notification") }
}

extension BatchForgetRequest: ValidatedRequest {
    /// Checks the ids.
    public func validate() throws(StintError) { try IDsRequest.validate(ids, what: "batch") }
}

extension BatchHeartbeatRequest: ValidatedRequest {
    /// Checks the token's size.
    public func validate() throws(StintError) { try Limits.checkText(token, "token", maximum: 256) }
}

extension TokenRequest: ValidatedRequest {
    /// Checks the session name.
    public func validate() throws(StintError) {
        if let session { try Session.validate(session) }
    }
}
