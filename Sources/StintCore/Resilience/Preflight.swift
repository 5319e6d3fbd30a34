public import Foundation

/// The cached result of a queue's preflight command.
///
/// A queue with a preflight claims nothing until the command has passed; a result is
/// trusted for the queue's TTL, after which the command runs again before the next claim.
public struct PreflightStatus: Sendable, Hashable, Codable {
    /// Whether the last run passed (exit 0).
    public var passed: Bool
    /// When it ran.
    public var checkedAt: Date
    /// For a failure: the exit status and the last line of output.
    public var reason: String?

    /// The default TTL: 30 s.
    public static let defaultTTL: Double = 30
    /// How long one preflight run may take before it is killed and counted as failed: 60 s.
    public static let runTimeout: Double = 60

    /// Creates a status.
    public init(passed: Bool, checkedAt: Date, reason: String? = nil) {
        self.passed = passed
        self.checkedAt = checkedAt
        self.reason = reason
    }

    /// Whether the result is still trusted at `now` with `ttl` seconds.
    public func isFresh(now: Date, ttl: Double) -> Bool {
        now >= checkedAt && now.timeIntervalSince(checkedAt) < ttl
    }

    /// When the result stops being trusted.
    public func expiresAt(ttl: Double) -> Date {
        checkedAt.addingTimeInterval(ttl)
    }
}

/// What a queue's preflight allows at a given moment.
public enum PreflightGate: Sendable, Hashable {
    /// No preflight, or a fresh pass: claim.
    case open
    /// A fresh failure: claim nothing until it expires.
    case closed(reason: String)
    /// No result, or a stale one: run the command first.
    case needsCheck

    /// The gate for a queue with `command` (nil: none), its last `status` and `ttl`.
    public static func evaluate(command: String?, status: PreflightStatus?, ttl: Double, now: Date) -> PreflightGate {
        guard let command, !command.isEmpty else { return .open }
        guard let status, status.isFresh(now: now, ttl: ttl) else { return .needsCheck }
        return status.passed ? .open : .closed(reason: status.reason ?? "preflight failed")
    }
}
