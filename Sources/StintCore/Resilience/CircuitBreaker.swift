public import Foundation

/// A queue's circuit breaker: after `threshold` consecutive transient failures it
/// *opens* (no claims for `pause` seconds), then goes *half-open* (exactly one probe
/// job, whatever the concurrency). The probe's success closes it; a transient failure
/// of the probe opens it again. Permanent failures never count toward the streak.
public struct CircuitBreaker: Sendable, Hashable, Codable {
    /// Where the breaker stands.
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        /// Claims flow normally.
        case closed
        /// No claims until `openUntil`.
        case open
        /// One probe job may run; its outcome decides.
        case half_open
    }

    /// How a queue's breaker is set.
    public struct Settings: Sendable, Hashable, Codable {
        /// Consecutive transient failures that open the breaker; 0 turns the breaker off.
        public var threshold: Int
        /// Seconds the breaker stays open before probing.
        public var pause: Double

        /// The default: off (threshold 0), with a 60 s pause once a threshold is set.
        public static let `default` = Settings(threshold: 0, pause: 60)

        /// Creates settings.
        public init(threshold: Int, pause: Double) {
            self.threshold = threshold
            self.pause = pause
        }
    }

    /// How many jobs the breaker lets the queue claim right now.
    public enum Allowance: Sendable, Hashable {
        /// As many as the queue's other limits allow.
        case unlimited
        /// Exactly one: the half-open probe.
        case probe
        /// None.
        case none
    }

    /// What an ended attempt means to the breaker.
    public enum Input: Sendable, Hashable {
        /// The job succeeded.
        case success
        /// The attempt failed transiently, for this reason.
        case transient(String)
        /// A permanent failure, or a cancellation: neither proves the service down or up.
        case neutral
    }

    /// A change of state, recorded as an event with its reason.
    public struct Transition: Sendable, Hashable, Codable {
        /// The state before.
        public var from: State
        /// The state after.
        public var to: State
        /// Why, in one line.
        public var reason: String
    }

    /// The current state.
    public var state: State = .closed
    /// Consecutive transient failures so far (closed state).
    public var streak: Int = 0
    /// When an open breaker goes half-open.
    public var openUntil: Date?
    /// The half-open probe job, once claimed.
    public var probeJob: Int64?

    /// Creates a closed breaker.
    public init(state: State = .closed, streak: Int = 0, openUntil: Date? = nil, probeJob: Int64? = nil) {
        self.state = state
        self.streak = streak
        self.openUntil = openUntil
        self.probeJob = probeJob
    }

    /// What may be claimed at `now`; an open breaker whose pause is over turns half-open here.
    public mutating func admit(now: Date) -> (Allowance, Transition?) {
        switch state {
        case .closed:
            return (.unlimited, nil)
        case .open:
            guard let openUntil, now < openUntil else {
                state = .half_open
                probeJob = nil
                openUntil = nil
                return (.probe, Transition(from: .open, to: .half_open, reason: "the pause is over; one probe job may run"))
            }
            return (.none, nil)
        case .half_open:
            return (probeJob == nil ? .probe : .none, nil)
        }
    }

    /// Records that `job` was claimed as the half-open probe.
    public mutating func claimedProbe(_ job: Int64) {
        if state == .half_open { probeJob = job }
    }

    /// Takes the outcome of an attempt of `job` into account.
    public mutating func record(_ input: Input, job: Int64, now: Date, settings: Settings) -> Transition? {
        switch state {
        case .closed:
            switch input {
            case .success:
                streak = 0
            case .transient(let reason):
                streak += 1
                if settings.threshold > 0, streak >= settings.threshold {
                    let count = streak
                    open(now: now, settings: settings)
                    return Transition(
                        from: .closed, to: .open,
                        reason: "\(count) consecutive transient failures (last: job \(job): \(reason))")
                }
            case .neutral:
                break
            }
            return nil
        case .open:
            // Jobs claimed before the breaker opened may still end; they decide nothing.
            return nil
        case .half_open:
            guard job == probeJob else { return nil }
            switch input {
            case .success:
                state = .closed
                streak = 0
                probeJob = nil
                return Transition(from: .half_open, to: .closed, reason: "probe job \(job) succeeded")
            case .transient(let reason):
                open(now: now, settings: settings)
                return Transition(from: .half_open, to: .open, reason: "probe job \(job) failed: \(reason)")
            case .neutral:
                // Neither proof nor disproof: let another job probe.
                probeJob = nil
                return nil
            }
        }
    }

    /// Seconds until an open breaker goes half-open, for `queue ls`.
    public func secondsLeft(now: Date) -> Double? {
        guard state == .open, let openUntil else { return nil }
        return max(0, openUntil.timeIntervalSince(now))
    }

    private mutating func open(now: Date, settings: Settings) {
        state = .open
        openUntil = now.addingTimeInterval(settings.pause)
        probeJob = nil
        streak = 0
    }
}
