public import Foundation

/// Whether a failed attempt is worth trying again.
public enum FailureClass: String, Codable, Sendable, Hashable, CaseIterable {
    /// Likely to pass on a later try: timeouts, lost shims, launch errors, outside
    /// signals, exit 75 (EX_TEMPFAIL), and whatever `--retry-on` / `--transient-pattern` add.
    case transient
    /// Retrying will not help: any other non-zero exit.
    case permanent
}

/// A failed attempt's class and the one-line reason for it, as `show` prints it.
public struct FailureVerdict: Sendable, Hashable, Codable {
    /// Transient or permanent.
    public var failureClass: FailureClass
    /// Why, such as `exit 75 (EX_TEMPFAIL) is transient`.
    public var reason: String

    /// Creates a verdict.
    public init(_ failureClass: FailureClass, _ reason: String) {
        self.failureClass = failureClass
        self.reason = reason
    }
}

/// How a job is retried: how often, which failures count as transient, and how long
/// to wait in between.
public struct RetryPolicy: Sendable, Hashable, Codable {
    /// Attempts after the first; 0 means no retry.
    public var retries: Int
    /// The first backoff, in seconds. Default 1.
    public var backoffMin: Double
    /// The longest backoff, in seconds. Default 300.
    public var backoffMax: Double
    /// Exit codes that are transient in addition to 75.
    public var retryOn: [Int]
    /// A regular expression; a failure whose output tail matches it is transient.
    public var transientPattern: String?

    /// The default first backoff: 1 s.
    public static let defaultBackoffMin: Double = 1
    /// The default longest backoff: 5 min.
    public static let defaultBackoffMax: Double = 300
    /// EX_TEMPFAIL from sysexits.h: "try again later".
    public static let temporaryFailureExitCode = 75

    /// Creates a policy.
    public init(
        retries: Int = 0, backoffMin: Double = defaultBackoffMin, backoffMax: Double = defaultBackoffMax,
        retryOn: [Int] = [], transientPattern: String? = nil
    ) {
        self.retries = retries
        self.backoffMin = backoffMin
        self.backoffMax = backoffMax
        self.retryOn = retryOn
        self.transientPattern = transientPattern
    }

    /// Classifies a failed attempt; `nil` for a success or a cancellation, which are not failures.
    ///
    /// `transientMatch` is what matching `transientPattern` against the end of the
    /// attempt's output gave; `nil` when it was not matched (no pattern, no output).
    public func classify(_ outcome: AttemptOutcome, transientMatch: PatternResult?) -> FailureVerdict? {
        switch outcome.reason {
        case .cancelled:
            return nil
        case .exited where outcome.exitCode == 0:
            return nil
        case .timeout:
            return FailureVerdict(.transient, "a timeout is transient")
        case .lost:
            return FailureVerdict(.transient, "a lost attempt is transient")
        case .launch_error:
            return FailureVerdict(.transient, "a launch error is transient")
        case .signal:
            return FailureVerdict(.transient, "signal \(outcome.signal ?? 0) from outside is transient")
        case .exited:
            let code = outcome.exitCode ?? 1
            if code == Self.temporaryFailureExitCode {
                return FailureVerdict(.transient, "exit 75 (EX_TEMPFAIL) is transient")
            }
            if retryOn.contains(code) {
                return FailureVerdict(.transient, "exit \(code) is transient (--retry-on)")
            }
            switch transientMatch {
            case .matched?:
                return FailureVerdict(.transient, "the output matched --transient-pattern")
            case .overBudget?:
                return FailureVerdict(
                    .permanent, "exit \(code) is permanent (--transient-pattern ran out of its match budget on the output; it backtracks too much)")
            case .notMatched?, nil:
                return FailureVerdict(.permanent, "exit \(code) is permanent")
            }
        }
    }

    /// When attempt `attempt` (1, 2, …), which failed with `verdict`, is tried again;
    /// `nil` when it is not: permanent, or no retries left.
    ///
    /// `jitter` in 0…1 picks the delay within its band (see ``backoff(after:jitter:)``).
    public func retryAt(after attempt: Int, verdict: FailureVerdict, now: Date, jitter: Double) -> Date? {
        guard verdict.failureClass == .transient, attempt <= retries else { return nil }
        return now.addingTimeInterval(backoff(after: attempt, jitter: jitter))
    }

    /// The delay before the attempt that follows attempt `attempt`: exponential from
    /// `backoffMin` (doubling per attempt, capped at `backoffMax`), with "equal jitter":
    /// a random point in the upper half of that value, never below `backoffMin`.
    public func backoff(after attempt: Int, jitter: Double) -> Double {
        let exponent = Double(max(0, min(attempt - 1, 62)))
        let ceiling = min(backoffMax, backoffMin * pow(2, exponent))
        let spread = min(max(jitter, 0), 1)
        return max(backoffMin, min(backoffMax, ceiling / 2 + ceiling / 2 * spread))
    }

    /// Whether an attempt that ended with `outcome` needs `transientPattern` matched
    /// against its output: a non-zero exit that nothing else makes transient.
    public func needsPatternMatch(_ outcome: AttemptOutcome) -> Bool {
        guard transientPattern != nil, outcome.reason == .exited else { return false }
        let code = outcome.exitCode ?? 1
        return code != 0 && code != Self.temporaryFailureExitCode && !retryOn.contains(code)
    }
}
