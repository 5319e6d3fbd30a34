public import Foundation

/// What a claim did.
public struct ClaimResult: Sendable {
    /// The attempts started.
    public var claimed: [ClaimedJob] = []
    /// Queues with runnable jobs whose preflight must run before they may claim.
    public var preflightsDue: [(queue: String, command: String)] = []
    /// Breaker transitions (open → half-open) made while claiming.
    public var transitions: [(queue: String, transition: CircuitBreaker.Transition)] = []
    /// The next moment something may become claimable (a delay, a backoff, a breaker
    /// pause or a preflight result running out); `nil`: nothing is scheduled.
    public var nextWake: Date?
    /// Jobs the claim found but could not read (``StoredJob/damage``), failed instead of started.
    public var failed: [FinishResult] = []

    /// Creates a result.
    public init() {}
}
