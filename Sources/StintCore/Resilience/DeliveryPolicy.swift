public import Foundation

/// What one delivery attempt came to, as the channel saw it: the facts, before any
/// judgement on retrying.
public enum DeliveryResult: Sendable, Hashable {
    /// The webhook answered with this HTTP status and, maybe, a `Retry-After` header.
    case http(status: Int, retryAfter: String?)
    /// The webhook could not be reached: refused, reset, closed, DNS or TLS failure.
    case connectionFailed(String)
    /// The webhook did not answer within the request timeout.
    case timedOut
    /// The target can never be reached as written (an invalid or unsupported URL).
    case invalidTarget(String)
    /// The command hook exited with this status.
    case exited(Int)
    /// The command hook was killed by a signal that was not the hook timeout's.
    case signaled(Int)
    /// The command hook ran past the hook timeout and its process group was killed.
    case commandTimedOut
    /// The command hook could not be started.
    case launchFailed(String)
}

/// Whether a delivery attempt worked and, if not, whether another is worth making.
public enum DeliveryVerdict: Sendable, Hashable {
    /// Delivered.
    case success
    /// Failed in a way a later attempt may not: retried while attempts are left. A
    /// `retryAfter` (seconds) is the receiver's own wish, already capped.
    case transient(reason: String, retryAfter: Double?)
    /// Failed in a way that retrying cannot mend: given up at once.
    case permanent(reason: String)
}

/// What to store after a delivery attempt: the delivery's new status, when it is tried
/// again (pending only), and the error to show.
public struct DeliveryDecision: Sendable, Hashable {
    /// `pending` (tried again at ``nextAt``), `success`, `exhausted` or `permanent`.
    public var status: DeliveryStatus
    /// When the next attempt is due; only for `pending`.
    public var nextAt: Date?
    /// What the attempt's failure was; `nil` for a success.
    public var error: String?

    /// Creates a decision.
    public init(status: DeliveryStatus, nextAt: Date?, error: String?) {
        self.status = status
        self.nextAt = nextAt
        self.error = error
    }
}

/// How notifications are delivered to webhooks and command hooks: which failures are
/// retried, how often, and how long apart.
///
/// Delays are exact (no jitter), so the documentation can state them: with the defaults
/// attempt 1 goes at once, attempt 2 30 s after attempt 1 failed, attempt 3 60 s after
/// attempt 2, and then the delivery is `exhausted`.
public struct DeliveryPolicy: Sendable, Hashable, Codable {
    /// Attempts in all, the first included. Default 3.
    public var attempts: Int
    /// Seconds before the second attempt; each later delay doubles. Default 30.
    public var firstDelay: Double
    /// The longest delay between two attempts, in seconds. Default 300 (5 min).
    public var maxDelay: Double
    /// The longest `Retry-After` honoured, in seconds; a longer one waits this long. Default 3600 (1 h).
    public var retryAfterCap: Double
    /// Seconds a webhook has to answer. Default 10.
    public var webhookTimeout: Double
    /// Seconds a command hook may run before its process group is killed. Default 60.
    public var commandTimeout: Double

    /// The default number of attempts in all: 3.
    public static let defaultAttempts = 3
    /// The default delay before the second attempt: 30 s.
    public static let defaultFirstDelay: Double = 30
    /// The default longest delay: 5 min.
    public static let defaultMaxDelay: Double = 300
    /// The default longest `Retry-After` honoured: 1 h. A receiver asking for more is
    /// tried after an hour all the same, so a typo in its header cannot park a delivery for days.
    public static let defaultRetryAfterCap: Double = 3600
    /// The default webhook timeout: 10 s.
    public static let defaultWebhookTimeout: Double = 10
    /// The default command hook timeout: 60 s.
    public static let defaultCommandTimeout: Double = 60
    /// The default time a graceful shutdown gives the deliveries that are due: 10 s.
    public static let defaultShutdownBudget: Double = 10
    /// HTTP statuses worth trying again: timeout, too many requests, and the server errors
    /// that mean "not now" (500, 502, 503, 504).
    public static let transientHTTPStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]
    /// The exit status of a command hook that asks to be tried again: EX_TEMPFAIL.
    public static let temporaryFailureExitCode = 75

    /// Creates a policy.
    public init(
        attempts: Int = defaultAttempts, firstDelay: Double = defaultFirstDelay, maxDelay: Double = defaultMaxDelay,
        retryAfterCap: Double = defaultRetryAfterCap, webhookTimeout: Double = defaultWebhookTimeout,
        commandTimeout: Double = defaultCommandTimeout
    ) {
        self.attempts = max(1, attempts)
        self.firstDelay = max(0, firstDelay)
        self.maxDelay = max(0, maxDelay)
        self.retryAfterCap = max(0, retryAfterCap)
        self.webhookTimeout = webhookTimeout
        self.commandTimeout = commandTimeout
    }

    /// The delay, in seconds, between attempt `attempt` (1, 2, …) failing and the next
    /// attempt: `firstDelay`, doubling per attempt, capped at `maxDelay`.
    public func delay(after attempt: Int) -> Double {
        let exponent = Double(max(0, min(attempt - 1, 62)))
        return min(maxDelay, firstDelay * pow(2, exponent))
    }

    /// When each attempt goes, in seconds after the first, when every one fails
    /// transiently without a `Retry-After`: `[0, 30, 90]` with the defaults.
    public var schedule: [Double] {
        var offsets: [Double] = [0]
        for attempt in stride(from: 1, to: attempts, by: 1) {
            offsets.append(offsets[attempt - 1] + delay(after: attempt))
        }
        return offsets
    }

    /// Judges one attempt's result. `now` reads a `Retry-After` given as an HTTP-date.
    public func verdict(for result: DeliveryResult, now: Date) -> DeliveryVerdict {
        switch result {
        case .http(let status, let retryAfter):
            if (200..<300).contains(status) { return .success }
            if Self.transientHTTPStatuses.contains(status) {
                let wish = retryAfter.flatMap { Self.retryAfterSeconds($0, now: now) }.map { min($0, retryAfterCap) }
                return .transient(reason: "HTTP \(status)", retryAfter: wish)
            }
            return .permanent(reason: "HTTP \(status)")
        case .connectionFailed(let detail):
            return .transient(reason: "cannot connect: \(detail)", retryAfter: nil)
        case .timedOut:
            return .transient(reason: "no answer within \(Self.seconds(webhookTimeout))", retryAfter: nil)
        case .invalidTarget(let detail):
            return .permanent(reason: detail)
        case .exited(0):
            return .success
        case .exited(Self.temporaryFailureExitCode):
            return .transient(reason: "exit 75 (EX_TEMPFAIL)", retryAfter: nil)
        case .exited(let code):
            return .permanent(reason: "exit \(code)")
        case .signaled(let signal):
            return .permanent(reason: "killed by signal \(signal)")
        case .commandTimedOut:
            return .transient(reason: "killed after the hook timeout of \(Self.seconds(commandTimeout))", retryAfter: nil)
        case .launchFailed(let detail):
            return .transient(reason: "cannot start /bin/sh: \(detail)", retryAfter: nil)
        }
    }

    /// What to store after attempt `attempt` (1, 2, …) ended with `verdict` at `now`.
    ///
    /// A transient failure with attempts left is tried again after ``delay(after:)``, or
    /// after the receiver's `Retry-After` when that is longer.
    public func decide(after attempt: Int, verdict: DeliveryVerdict, now: Date) -> DeliveryDecision {
        switch verdict {
        case .success:
            return DeliveryDecision(status: .success, nextAt: nil, error: nil)
        case .permanent(let reason):
            return DeliveryDecision(status: .permanent, nextAt: nil, error: reason)
        case .transient(let reason, let retryAfter):
            guard attempt < attempts else {
                return DeliveryDecision(status: .exhausted, nextAt: nil, error: "\(reason) (attempt \(attempt) of \(attempts))")
            }
            let wait = max(delay(after: attempt), retryAfter ?? 0)
            return DeliveryDecision(status: .pending, nextAt: now.addingTimeInterval(wait), error: reason)
        }
    }

    /// The seconds a `Retry-After` value asks for: a number of seconds, or an HTTP-date
    /// (RFC 9110: IMF-fixdate, or the obsolete RFC 850 and asctime forms); `nil` when it
    /// is neither. A date in the past asks for 0.
    public static func retryAfterSeconds(_ value: String, now: Date) -> Double? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return Double(text)
        }
        // asctime pads a one-digit day with a second space.
        let single = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: single) {
                return max(0, date.timeIntervalSince(now))
            }
        }
        return nil
    }

    /// Parses `--delivery-backoff MIN..MAX` (durations such as `30s..5m`): the first delay
    /// and the longest one; `nil` unless 0 ≤ MIN ≤ MAX.
    public static func backoffRange(_ text: String) -> (first: Double, max: Double)? {
        guard let (first, longest) = DurationParser.range(text), first >= 0, longest >= first else { return nil }
        return (first, longest)
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
