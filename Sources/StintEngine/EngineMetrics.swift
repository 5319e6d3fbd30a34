public import StintCore
public import StintStore
import Foundation

/// What the engine counts for `/metrics` as it works: attempts by outcome, their
/// durations, how long jobs wait to start, schedule lateness, preflight results and the
/// store's transaction latency.
///
/// Recorded on the paths where they happen, without a lock: each series is an
/// ``AtomicCounter`` or an ``AtomicHistogram`` made when the engine starts, so a job's end
/// adds to an atomic count and takes no lock (what `/metrics` reads at scrape time, such
/// as jobs by state, it reads from the store then, off every job's path).
public final class EngineMetrics: TransactionObserver, Sendable {
    /// The failure classes a `failure_class` label takes: `none` for a success or an
    /// ending that was not classified (a stop).
    static let failureClasses = ["transient", "permanent", "none"]

    /// `stint_attempts_total{outcome,failure_class}`, one count per pair.
    private let attempts: [String: AtomicCounter]
    /// `stint_attempt_duration_seconds`: from an attempt's claim to its end.
    let attemptDuration = AtomicHistogram(bounds: [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21600, 86400])
    /// `stint_job_start_latency_seconds`: from when a job could run to its attempt's claim.
    let startLatency = AtomicHistogram(bounds: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600])
    /// `stint_schedule_lateness_seconds`: from a fire time to its run's claim.
    let scheduleLateness = AtomicHistogram(bounds: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60])
    /// `stint_store_transaction_seconds{kind="read"|"write"}`.
    let storeReads = AtomicHistogram(bounds: EngineMetrics.storeBounds)
    let storeWrites = AtomicHistogram(bounds: EngineMetrics.storeBounds)
    /// `stint_preflight_checks_total{result}`.
    let preflightPassed = AtomicCounter()
    let preflightFailed = AtomicCounter()

    static let storeBounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5]

    /// Creates every series at 0.
    public init() {
        var attempts: [String: AtomicCounter] = [:]
        for reason in AttemptReason.allCases {
            for failureClass in Self.failureClasses { attempts[Self.key(reason.rawValue, failureClass)] = AtomicCounter() }
        }
        self.attempts = attempts
    }

    private static func key(_ outcome: String, _ failureClass: String) -> String { outcome + "|" + failureClass }

    /// An attempt's outcome was stored.
    func attemptEnded(_ outcome: AttemptOutcome, verdict: FailureVerdict?, claimedAt: Date) {
        let failureClass = verdict.map(\.failureClass.rawValue) ?? "none"
        attempts[Self.key(outcome.reason.rawValue, failureClass)]?.add()
        attemptDuration.record(outcome.endedAt.timeIntervalSince(claimedAt))
    }

    /// An attempt was claimed and is being launched.
    func attemptClaimed(_ job: ClaimedJob) {
        if let readyAt = job.readyAt { startLatency.record(job.startedAt.timeIntervalSince(readyAt)) }
        // A schedule's run, on time (a catch-up run is late by design and left out).
        if job.spec.labels[ScheduleRules.catchUpLabel] == nil,
            let fire = job.spec.labels[ScheduleRules.fireTimeLabel].flatMap(RFC3339.parse)
        {
            scheduleLateness.record(job.startedAt.timeIntervalSince(fire))
        }
    }

    /// A preflight check ended.
    func preflightChecked(passed: Bool) { (passed ? preflightPassed : preflightFailed).add() }

    public func transaction(write: Bool, seconds: Double) {
        (write ? storeWrites : storeReads).record(seconds)
    }

    /// Writes every series.
    public func render(into text: inout PrometheusText) {
        text.family("stint_attempts_total", "counter", "Attempts ended since the daemon started, by outcome and failure class.")
        for reason in AttemptReason.allCases {
            for failureClass in Self.failureClasses {
                let count = attempts[Self.key(reason.rawValue, failureClass)]?.count ?? 0
                text.sample("stint_attempts_total", [("outcome", reason.rawValue), ("failure_class", failureClass)], Double(count))
            }
        }
        text.histogram("stint_attempt_duration_seconds", "Attempt durations, from claim to end.", attemptDuration)
        text.histogram(
            "stint_job_start_latency_seconds",
            "From when a job could run (added, or its delay or retry time came) to its attempt's claim.", startLatency)
        text.histogram("stint_schedule_lateness_seconds", "From a schedule's fire time to its run's claim (catch-up runs left out).", scheduleLateness)
        text.family("stint_preflight_checks_total", "counter", "Preflight checks run since the daemon started, by result.")
        text.sample("stint_preflight_checks_total", [("result", "passed")], Double(preflightPassed.count))
        text.sample("stint_preflight_checks_total", [("result", "failed")], Double(preflightFailed.count))
        text.histogram(
            "stint_store_transaction_seconds", "Store transactions, from the request to the commit (waiting for the writer included).",
            storeReads, labels: [("kind", "read")])
        text.histogram("stint_store_transaction_seconds", "", storeWrites, labels: [("kind", "write")], header: false)
    }
}
