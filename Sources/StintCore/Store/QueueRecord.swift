public import Foundation

/// A queue as stored: its settings, its breaker and its last preflight result.
public struct QueueRecord: Sendable, Hashable {
    /// The name.
    public var name: String
    /// What the operator set.
    public var settings: QueueSettings
    /// The breaker's state.
    public var breaker: CircuitBreaker
    /// The last preflight result; `nil`: none yet (or the command changed since).
    public var preflight: PreflightStatus?

    /// The settings of a queue nobody configured: no limit, not paused, breaker off, no
    /// preflight (the column defaults of every backend).
    public static let defaultSettings = QueueSettings(
        concurrency: 0, paused: false, breaker: .default, preflight: nil, preflightTTL: PreflightStatus.defaultTTL)

    /// Creates a record.
    public init(
        name: String, settings: QueueSettings = QueueRecord.defaultSettings, breaker: CircuitBreaker = CircuitBreaker(),
        preflight: PreflightStatus? = nil
    ) {
        self.name = name
        self.settings = settings
        self.breaker = breaker
        self.preflight = preflight
    }

    /// The queue as `queue ls` shows it, with its counts of live jobs by state.
    public func view(counts: [JobState: Int], now: Date) -> QueueView {
        let preflightView = settings.preflight.map { command in
            PreflightView(
                command: command, ttl: settings.preflightTTL,
                status: preflight.map { $0.passed ? "passed" : "failed" } ?? "unchecked",
                checkedAt: preflight?.checkedAt, reason: preflight?.reason)
        }
        return QueueView(
            name: name, concurrency: settings.concurrency, paused: settings.paused,
            running: counts[.running] ?? 0, queued: counts[.queued] ?? 0, held: counts[.held] ?? 0,
            breaker: BreakerView(
                state: breaker.state, threshold: settings.breaker.threshold, pause: settings.breaker.pause,
                streak: breaker.streak, openUntil: breaker.openUntil, secondsLeft: breaker.secondsLeft(now: now),
                probeJob: breaker.probeJob),
            preflight: preflightView, notify: settings.notify, onEnd: settings.onEnd)
    }
}
