public import Foundation

/// Which queued jobs a claim starts: the queues' pause and concurrency, their breakers
/// (with exactly one half-open probe), their preflights and the global limit, with the
/// most urgent work first (highest priority, then oldest).
///
/// A claim is planned in two steps around two reads of the store: ``plan(queues:running:limit:now:)``
/// says how many jobs each queue may start (and which breakers move), the backend reads
/// that many ready jobs of each admitted queue, and ``select(_:plan:limit:)`` picks among
/// them. Delayed and backed-off jobs have become ready before (see ``StoreTransaction``).
public enum ClaimPlanner {
    /// How many jobs one queue may start in this claim.
    public struct Admission: Sendable, Hashable {
        /// The queue.
        public var queue: String
        /// At most this many of its jobs.
        public var allowance: Int
        /// The queue's breaker as the claim leaves it (half-open after its pause).
        public var breaker: CircuitBreaker
    }

    /// A queue that may not claim until its preflight allows it.
    public struct PreflightHold: Sendable, Hashable {
        /// The queue.
        public var queue: String
        /// The command to run now (no result, or a stale one); `nil` when a fresh failure holds the queue.
        public var command: String?
        /// When a fresh failure runs out (then the queue is worth another look).
        public var expiresAt: Date?
    }

    /// The first step's answer.
    public struct Plan: Sendable {
        /// The queues that may claim, by name order.
        public var admissions: [Admission] = []
        /// Breakers that moved (open → half-open): save them and record the transition.
        public var transitions: [(queue: String, breaker: CircuitBreaker, transition: CircuitBreaker.Transition)] = []
        /// Queues held by their preflight; each matters only if it has ready jobs.
        public var holds: [PreflightHold] = []
        /// The earliest moment an open breaker goes half-open.
        public var nextWake: Date?
    }

    /// The second step's answer.
    public struct Selection: Sendable {
        /// The jobs to start, in claim order, each with its attempt number and the spec to run.
        public var starts: [(job: StoredJob, attempt: Int)] = []
        /// Jobs found that cannot be read in full: fail them (they never run), claim others.
        public var unreadable: [StoredJob] = []
        /// Half-open breakers whose probe this claim starts: save them.
        public var probes: [(queue: String, breaker: CircuitBreaker)] = []
    }

    /// Step one: each queue's allowance at `now`, given the running jobs per queue and the
    /// claim's `limit` (the free slots). Queues come in any order; admissions are by name.
    public static func plan(queues: [QueueRecord], running: [String: Int], limit: Int, now: Date) -> Plan {
        var plan = Plan()
        guard limit > 0 else { return plan }
        for queue in queues.sorted(by: { $0.name < $1.name }) where !queue.settings.paused {
            var available = limit
            if queue.settings.concurrency > 0 {
                available = min(available, queue.settings.concurrency - (running[queue.name] ?? 0))
            }
            guard available > 0 else { continue }
            var breaker = queue.breaker
            let (admission, transition) = breaker.admit(now: now)
            if let transition { plan.transitions.append((queue.name, breaker, transition)) }
            switch admission {
            case .none:
                if let until = breaker.openUntil { plan.nextWake = earliest(plan.nextWake, until) }
                continue
            case .probe:
                available = 1
            case .unlimited:
                break
            }
            switch PreflightGate.evaluate(
                command: queue.settings.preflight, status: queue.preflight, ttl: queue.settings.preflightTTL, now: now)
            {
            case .open:
                plan.admissions.append(Admission(queue: queue.name, allowance: available, breaker: breaker))
            case .closed:
                plan.holds.append(
                    PreflightHold(
                        queue: queue.name, command: nil,
                        expiresAt: queue.preflight?.expiresAt(ttl: queue.settings.preflightTTL)))
            case .needsCheck:
                plan.holds.append(PreflightHold(queue: queue.name, command: queue.settings.preflight, expiresAt: nil))
            }
        }
        return plan
    }

    /// Step two: from the ready jobs read for the admitted queues (at most each one's
    /// allowance, any order), the jobs to start: by priority then age, within each queue's
    /// allowance and `limit` in all. A job that does not read in full takes no slot.
    public static func select(_ candidates: [StoredJob], plan: Plan, limit: Int) -> Selection {
        var allowance: [String: Int] = [:]
        var breakers: [String: CircuitBreaker] = [:]
        for admission in plan.admissions {
            allowance[admission.queue] = admission.allowance
            breakers[admission.queue] = admission.breaker
        }
        let ordered = candidates.sorted { a, b in a.priority != b.priority ? a.priority > b.priority : a.id < b.id }
        var selection = Selection()
        for candidate in ordered where selection.starts.count < limit {
            guard let left = allowance[candidate.queue], left > 0 else { continue }
            guard candidate.damage == nil, JobStateMachine.next(from: candidate.state, on: .start) != nil else {
                selection.unreadable.append(candidate)
                continue
            }
            allowance[candidate.queue] = left - 1
            var job = candidate
            // A job that recorded a checkpoint resumes from it (a retry, or an attempt after a failure).
            if let checkpoint = job.checkpoint { job.spec.env["STINT_CHECKPOINT"] = checkpoint }
            selection.starts.append((job, job.attemptCount + 1))
            if var breaker = breakers[job.queue], breaker.state == .half_open {
                breaker.claimedProbe(job.id)
                breakers[job.queue] = breaker
                selection.probes.append((job.queue, breaker))
            }
        }
        return selection
    }

    /// What a preflight hold adds to the claim's result, once the store said whether the
    /// queue has ready jobs: a preflight to run, or a wake-up when a failure runs out.
    public static func apply(_ hold: PreflightHold, hasReadyJobs: Bool, to result: inout ClaimResult) {
        guard hasReadyJobs else { return }
        if let command = hold.command {
            result.preflightsDue.append((hold.queue, command))
        } else if let expiry = hold.expiresAt {
            result.nextWake = earliest(result.nextWake, expiry)
        }
    }

    /// The earlier of two moments, either of which may be unknown.
    public static func earliest(_ a: Date?, _ b: Date) -> Date { a.map { min($0, b) } ?? b }
}
