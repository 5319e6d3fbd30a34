public import Foundation

/// What an ended attempt does to its job and its queue: a retry or a terminal state (a
/// stop beats a retry), and what the queue's breaker learns from it.
public enum AttemptSettlement {
    /// The writes an ending implies.
    public struct Decision: Sendable {
        /// The job's next state: `queued` for a retry, else terminal.
        public var next: JobState
        /// When the retry runs, if the job is retried.
        public var retryAt: Date?
        /// The queue's breaker after the ending, if it changed: save it.
        public var breaker: CircuitBreaker?
        /// The breaker's transition, if any.
        public var transition: CircuitBreaker.Transition?
        /// Events to record.
        public var events: [EventRecord] = []
    }

    /// Settles `ending` of a job that is `state` (with a stop requested or not), in `queue`
    /// (`nil`: a queue row that is gone). Throws `E_CONFLICT` for an ending the state
    /// machine does not allow.
    public static func settle(
        _ ending: AttemptEnding, state: JobState, stopRequested: Bool, queue: QueueRecord?, queueName: String
    ) throws(StintError) -> Decision {
        let outcome = ending.outcome
        var event = outcome.event
        var retryAt = ending.retryAt
        if event == .fail {
            if stopRequested {
                // A stop wins over a retry: the job ends cancelled, never requeued.
                event = .cancel
                retryAt = nil
            } else if retryAt != nil {
                event = .reschedule
            }
        } else {
            retryAt = nil
        }
        guard let next = JobStateMachine.next(from: state, on: event) else {
            throw StintError(.conflict, "job \(ending.jobID) is \(state.rawValue); cannot \(event.rawValue) it")
        }
        var decision = Decision(next: next, retryAt: retryAt)
        if let retryAt {
            decision.events.append(
                EventRecord(
                    job: ending.jobID, queue: queueName, kind: "retry_scheduled",
                    message: "attempt \(ending.attempt) failed (\(ending.verdict?.reason ?? "transient")); "
                        + "attempt \(ending.attempt + 1) at \(RFC3339.format(retryAt))",
                    at: outcome.endedAt))
        }
        // The queue's breaker learns from every ended attempt.
        if let queue {
            var breaker = queue.breaker
            let input: CircuitBreaker.Input
            if next == .succeeded {
                input = .success
            } else if outcome.event == .fail, let verdict = ending.verdict, verdict.failureClass == .transient {
                input = .transient(verdict.reason)
            } else {
                input = .neutral
            }
            decision.transition = breaker.record(input, job: ending.jobID, now: outcome.endedAt, settings: queue.settings.breaker)
            if breaker != queue.breaker { decision.breaker = breaker }
            if let transition = decision.transition {
                decision.events.append(
                    EventRecord(
                        job: ending.jobID, queue: queueName, kind: "breaker_\(transition.to.rawValue)",
                        message: transition.reason, at: outcome.endedAt))
            }
        }
        return decision
    }
}
