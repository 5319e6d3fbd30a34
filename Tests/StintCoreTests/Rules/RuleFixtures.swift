import Foundation
import StintCore

/// Plain values for the rules' tests: jobs and queues as a store would return them.
enum RuleFixtures {
    static let clock = ManualClock()

    static func job(
        _ id: Int64, queue: String = "default", state: JobState = .queued, priority: Int = 0, attempts: Int = 0,
        session: String? = nil, damage: String? = nil
    ) -> StoredJob {
        var spec = JobSpec(argv: ["true"], cwd: "/", env: ["PATH": "/bin"], session: session, queue: queue, priority: priority)
        spec.labels = [:]
        return StoredJob(
            id: id, state: state, queue: queue, spec: spec, createdAt: clock.now(), attemptCount: attempts,
            priority: priority, damage: damage)
    }

    static func queue(
        _ name: String, concurrency: Int = 0, paused: Bool = false, threshold: Int = 0, breaker: CircuitBreaker = CircuitBreaker(),
        preflight: String? = nil, preflightStatus: PreflightStatus? = nil
    ) -> QueueRecord {
        QueueRecord(
            name: name,
            settings: QueueSettings(
                concurrency: concurrency, paused: paused, breaker: .init(threshold: threshold, pause: 60),
                preflight: preflight, preflightTTL: 30),
            breaker: breaker, preflight: preflightStatus)
    }

    static func ending(
        _ job: Int64, attempt: Int = 1, exit: Int, transient: Bool = false, retryAt: Date? = nil
    ) -> AttemptEnding {
        let now = clock.now()
        return AttemptEnding(
            jobID: job, attempt: attempt,
            outcome: AttemptOutcome(reason: .exited, exitCode: exit, startedAt: now.addingTimeInterval(-1), endedAt: now),
            verdict: exit == 0 ? nil : FailureVerdict(transient ? .transient : .permanent, "exit \(exit)"), retryAt: retryAt)
    }
}
