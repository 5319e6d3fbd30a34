import Foundation
import StintCore
import Testing

/// An outcome of the given kind; its time plays no part in classification.
private func outcome(_ reason: AttemptReason, exit: Int? = nil, signal: Int? = nil) -> AttemptOutcome {
    AttemptOutcome(reason: reason, exitCode: exit, signal: signal, endedAt: ManualClock().now())
}

@Suite("ManualClock")
struct ManualClockTests {
    @Test("starts at the documented instant and moves only when advanced")
    func advance() {
        let clock = ManualClock()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(clock.now() == start)
        #expect(clock.now() == start)
        clock.advance(1.5)
        #expect(clock.now() == start.addingTimeInterval(1.5))
        clock.advance(3600)
        #expect(clock.now() == start.addingTimeInterval(3601.5))
    }

    @Test("starts where it is told")
    func customStart() {
        let start = Date(timeIntervalSince1970: 0)
        let clock = ManualClock(start)
        clock.advance(86_400)
        #expect(clock.now() == Date(timeIntervalSince1970: 86_400))
    }
}

@Suite("RetryPolicy.classify")
struct RetryClassifyTests {
    @Test("a success and a cancellation are not failures")
    func notFailures() {
        let policy = RetryPolicy(retries: 3, retryOn: [0, 1, 75], transientPattern: ".*")
        #expect(policy.classify(outcome(.exited, exit: 0), transientMatch: .matched) == nil)
        #expect(policy.classify(outcome(.cancelled), transientMatch: nil) == nil)
        // A cancellation stays one whatever the command exited with.
        #expect(policy.classify(outcome(.cancelled, exit: 75), transientMatch: .matched) == nil)
        #expect(policy.classify(outcome(.cancelled, signal: 15), transientMatch: nil) == nil)
    }

    @Test(
        "timeouts, lost attempts, launch errors and outside signals are transient",
        arguments: [
            (AttemptReason.timeout, nil, "a timeout is transient"),
            (.timeout, 143, "a timeout is transient"),
            (.lost, nil, "a lost attempt is transient"),
            (.launch_error, 127, "a launch error is transient"),
            (.launch_error, nil, "a launch error is transient"),
        ] as [(AttemptReason, Int?, String)])
    func transientReasons(reason: AttemptReason, exit: Int?, expected: String) {
        let verdict = RetryPolicy().classify(outcome(reason, exit: exit), transientMatch: nil)
        #expect(verdict == FailureVerdict(.transient, expected))
    }

    @Test("a signal is transient and names the signal", arguments: [1, 9, 15])
    func signal(number: Int) {
        let verdict = RetryPolicy().classify(outcome(.signal, signal: number), transientMatch: nil)
        #expect(verdict == FailureVerdict(.transient, "signal \(number) from outside is transient"))
    }

    @Test("exit 75 (EX_TEMPFAIL) is transient without any option")
    func temporaryFailure() {
        #expect(RetryPolicy.temporaryFailureExitCode == 75)
        let verdict = RetryPolicy().classify(outcome(.exited, exit: 75), transientMatch: nil)
        #expect(verdict == FailureVerdict(.transient, "exit 75 (EX_TEMPFAIL) is transient"))
    }

    @Test("any other non-zero exit is permanent", arguments: [1, 2, 3, 74, 76, 124, 127, 255])
    func permanentExit(code: Int) {
        let verdict = RetryPolicy(retries: 5).classify(outcome(.exited, exit: code), transientMatch: .notMatched)
        #expect(verdict == FailureVerdict(.permanent, "exit \(code) is permanent"))
    }

    @Test("an exit without a code is a failure (exit 1), not a success")
    func exitWithoutCode() {
        let verdict = RetryPolicy().classify(outcome(.exited), transientMatch: nil)
        #expect(verdict == FailureVerdict(.permanent, "exit 1 is permanent"))
    }

    @Test("retryOn makes the listed exits transient and no others")
    func retryOn() {
        let policy = RetryPolicy(retries: 2, retryOn: [3, 42])
        #expect(
            policy.classify(outcome(.exited, exit: 3), transientMatch: nil)
                == FailureVerdict(.transient, "exit 3 is transient (--retry-on)"))
        #expect(
            policy.classify(outcome(.exited, exit: 42), transientMatch: nil)
                == FailureVerdict(.transient, "exit 42 is transient (--retry-on)"))
        #expect(
            policy.classify(outcome(.exited, exit: 4), transientMatch: nil)
                == FailureVerdict(.permanent, "exit 4 is permanent"))
        #expect(
            RetryPolicy().classify(outcome(.exited, exit: 3), transientMatch: nil)
                == FailureVerdict(.permanent, "exit 3 is permanent"))
    }

    @Test("exit 75 keeps its own reason when retryOn lists it too")
    func temporaryFailureBeforeRetryOn() {
        let policy = RetryPolicy(retryOn: [75])
        #expect(
            policy.classify(outcome(.exited, exit: 75), transientMatch: nil)
                == FailureVerdict(.transient, "exit 75 (EX_TEMPFAIL) is transient"))
    }

    @Test("a pattern match makes a failure transient; no match or no look leaves it permanent")
    func patternResult() {
        let policy = RetryPolicy(transientPattern: "connection refused")
        #expect(
            policy.classify(outcome(.exited, exit: 1), transientMatch: .matched)
                == FailureVerdict(.transient, "the output matched --transient-pattern"))
        let permanent = FailureVerdict(.permanent, "exit 1 is permanent")
        #expect(policy.classify(outcome(.exited, exit: 1), transientMatch: .notMatched) == permanent)
        #expect(policy.classify(outcome(.exited, exit: 1), transientMatch: nil) == permanent)
    }

    @Test("a pattern out of its match budget leaves the failure permanent, and says why")
    func patternOverBudget() {
        let verdict = RetryPolicy(transientPattern: "(.*a){12}$").classify(outcome(.exited, exit: 2), transientMatch: .overBudget)
        #expect(verdict?.failureClass == .permanent)
        #expect(verdict?.reason.contains("match budget") == true)
    }

    @Test("only a non-zero exit nothing else makes transient needs the pattern")
    func needsPatternMatch() {
        let policy = RetryPolicy(retryOn: [3], transientPattern: "x")
        #expect(policy.needsPatternMatch(outcome(.exited, exit: 1)))
        #expect(!policy.needsPatternMatch(outcome(.exited, exit: 0)))
        #expect(!policy.needsPatternMatch(outcome(.exited, exit: 3)))
        #expect(!policy.needsPatternMatch(outcome(.exited, exit: 75)))
        #expect(!policy.needsPatternMatch(outcome(.timeout)))
        #expect(!RetryPolicy().needsPatternMatch(outcome(.exited, exit: 1)))
    }

    @Test("retryOn is reported before a pattern match")
    func retryOnBeforePattern() {
        let policy = RetryPolicy(retryOn: [3], transientPattern: "refused")
        #expect(
            policy.classify(outcome(.exited, exit: 3), transientMatch: .matched)
                == FailureVerdict(.transient, "exit 3 is transient (--retry-on)"))
    }
}

@Suite("RetryPolicy.backoff")
struct RetryBackoffTests {
    /// The exponential ceiling before jitter, by repeated doubling rather than `pow`.
    static func ceiling(after attempt: Int, min: Double, max: Double) -> Double {
        var value = min
        for _ in 1..<Swift.max(attempt, 1) where value < max { value *= 2 }
        return Swift.min(value, max)
    }

    @Test("the defaults are 1 s to 300 s, no retry, nothing extra transient")
    func defaults() {
        #expect(RetryPolicy.defaultBackoffMin == 1)
        #expect(RetryPolicy.defaultBackoffMax == 300)
        let policy = RetryPolicy()
        #expect(policy.retries == 0)
        #expect(policy.backoffMin == 1)
        #expect(policy.backoffMax == 300)
        #expect(policy.retryOn.isEmpty)
        #expect(policy.transientPattern == nil)
    }

    @Test("with jitter 1 the delay doubles from backoffMin up to backoffMax")
    func doublingAtFullJitter() {
        let policy = RetryPolicy()
        let delays = (1...11).map { policy.backoff(after: $0, jitter: 1) }
        #expect(delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300])
    }

    @Test("with jitter 0 the delay is half the ceiling, never below backoffMin")
    func halfAtZeroJitter() {
        let policy = RetryPolicy()
        let delays = (1...11).map { policy.backoff(after: $0, jitter: 0) }
        #expect(delays == [1, 1, 2, 4, 8, 16, 32, 64, 128, 150, 150])
    }

    @Test("jitter picks a point linearly within the upper half")
    func midJitter() {
        let policy = RetryPolicy()
        #expect(policy.backoff(after: 3, jitter: 0.5) == 3)
        #expect(policy.backoff(after: 4, jitter: 0.25) == 5)
        #expect(policy.backoff(after: 20, jitter: 0.5) == 225)
    }

    @Test("a custom range doubles from its own minimum and stops at its maximum")
    func customRange() {
        let policy = RetryPolicy(backoffMin: 5, backoffMax: 60)
        #expect((1...6).map { policy.backoff(after: $0, jitter: 1) } == [5, 10, 20, 40, 60, 60])
        #expect((1...6).map { policy.backoff(after: $0, jitter: 0) } == [5, 5, 10, 20, 30, 30])
    }

    @Test(
        "every delay lies within [max(min, ceiling/2), ceiling] and grows with jitter",
        arguments: [(1.0, 300.0), (0.5, 10), (5, 60), (2, 2), (0.1, 1000)])
    func bounds(min: Double, max: Double) {
        let policy = RetryPolicy(backoffMin: min, backoffMax: max)
        for attempt in 1...40 {
            let ceiling = Self.ceiling(after: attempt, min: min, max: max)
            var previous = -Double.infinity
            for step in 0...10 {
                let delay = policy.backoff(after: attempt, jitter: Double(step) / 10)
                #expect(delay >= Swift.max(min, ceiling / 2), "attempt \(attempt), jitter \(step)")
                #expect(delay <= ceiling, "attempt \(attempt), jitter \(step)")
                #expect(delay >= previous, "attempt \(attempt), jitter \(step)")
                previous = delay
            }
        }
    }

    @Test("large attempt numbers stay capped and finite", arguments: [31, 62, 63, 64, 100, 1_000, Int.max])
    func largeAttempts(attempt: Int) {
        let policy = RetryPolicy()
        #expect(policy.backoff(after: attempt, jitter: 1) == 300)
        #expect(policy.backoff(after: attempt, jitter: 0) == 150)
        let tiny = RetryPolicy(backoffMin: 1e-9, backoffMax: 1e9)
        #expect(tiny.backoff(after: attempt, jitter: 1).isFinite)
        #expect(tiny.backoff(after: attempt, jitter: 1) <= 1e9)
    }

    @Test("attempt numbers below 1 wait backoffMin", arguments: [0, -1, -100])
    func smallAttempts(attempt: Int) {
        #expect(RetryPolicy().backoff(after: attempt, jitter: 1) == 1)
        #expect(RetryPolicy(backoffMin: 7).backoff(after: attempt, jitter: 0) == 7)
    }

    @Test("jitter outside 0…1 is clamped", arguments: [1, 4, 12])
    func jitterClamped(attempt: Int) {
        let policy = RetryPolicy()
        let low = policy.backoff(after: attempt, jitter: 0)
        let high = policy.backoff(after: attempt, jitter: 1)
        #expect(policy.backoff(after: attempt, jitter: -0.5) == low)
        #expect(policy.backoff(after: attempt, jitter: -Double.infinity) == low)
        #expect(policy.backoff(after: attempt, jitter: 1.5) == high)
        #expect(policy.backoff(after: attempt, jitter: 1e300) == high)
        #expect(policy.backoff(after: attempt, jitter: Double.infinity) == high)
    }
}

@Suite("RetryPolicy.retryAt")
struct RetryAtTests {
    let transient = FailureVerdict(.transient, "a timeout is transient")

    @Test("a permanent failure is never retried")
    func permanent() {
        let clock = ManualClock()
        let policy = RetryPolicy(retries: 5)
        let verdict = FailureVerdict(.permanent, "exit 1 is permanent")
        for attempt in 1...6 {
            #expect(policy.retryAt(after: attempt, verdict: verdict, now: clock.now(), jitter: 1) == nil)
        }
    }

    @Test("retries 2 gives attempts 1 and 2 a retry, attempt 3 none")
    func exactCount() {
        let clock = ManualClock()
        let policy = RetryPolicy(retries: 2)
        #expect(policy.retryAt(after: 1, verdict: transient, now: clock.now(), jitter: 1) != nil)
        #expect(policy.retryAt(after: 2, verdict: transient, now: clock.now(), jitter: 1) != nil)
        #expect(policy.retryAt(after: 3, verdict: transient, now: clock.now(), jitter: 1) == nil)
        #expect(policy.retryAt(after: 4, verdict: transient, now: clock.now(), jitter: 1) == nil)
    }

    @Test("retries 0 means no retry at all")
    func noRetries() {
        let clock = ManualClock()
        #expect(RetryPolicy().retryAt(after: 1, verdict: transient, now: clock.now(), jitter: 1) == nil)
    }

    @Test("the retry time is now plus the backoff")
    func time() {
        let clock = ManualClock()
        let policy = RetryPolicy(retries: 10)
        for (attempt, delay) in [(1, 1.0), (2, 2), (3, 4), (4, 8), (10, 300)] {
            clock.advance(17)
            let now = clock.now()
            #expect(policy.retryAt(after: attempt, verdict: transient, now: now, jitter: 1) == now + delay)
        }
        let now = clock.now()
        for jitter in [0, 0.3, 0.8] {
            #expect(
                policy.retryAt(after: 6, verdict: transient, now: now, jitter: jitter)
                    == now + policy.backoff(after: 6, jitter: jitter))
        }
    }
}

@Suite("CircuitBreaker")
struct CircuitBreakerTests {
    typealias Allowance = CircuitBreaker.Allowance

    let settings = CircuitBreaker.Settings(threshold: 3, pause: 60)

    /// A breaker just opened at the clock's time by `settings.threshold` transient failures.
    func openBreaker(_ clock: ManualClock) -> CircuitBreaker {
        var breaker = CircuitBreaker()
        for job in 1...Int64(settings.threshold) {
            _ = breaker.record(.transient("timeout"), job: job, now: clock.now(), settings: settings)
        }
        #expect(breaker.state == .open)
        return breaker
    }

    /// A breaker whose pause is over and whose probe `job` has been claimed.
    func probingBreaker(_ clock: ManualClock, job: Int64 = 42) -> CircuitBreaker {
        var breaker = openBreaker(clock)
        clock.advance(settings.pause)
        let (allowance, _) = breaker.admit(now: clock.now())
        #expect(allowance == Allowance.probe)
        breaker.claimedProbe(job)
        return breaker
    }

    @Test("the default settings are off with a 60 s pause")
    func defaults() {
        #expect(CircuitBreaker.Settings.default == CircuitBreaker.Settings(threshold: 0, pause: 60))
        let breaker = CircuitBreaker()
        #expect(breaker.state == .closed)
        #expect(breaker.streak == 0)
        #expect(breaker.openUntil == nil)
        #expect(breaker.probeJob == nil)
    }

    @Test("a closed breaker admits without limit")
    func closedAdmits() {
        let clock = ManualClock()
        var breaker = CircuitBreaker()
        let (allowance, transition) = breaker.admit(now: clock.now())
        #expect(allowance == Allowance.unlimited)
        #expect(transition == nil)
    }

    @Test("threshold 3 opens on the third consecutive transient failure, not the second")
    func opensAtThreshold() throws {
        let clock = ManualClock()
        var breaker = CircuitBreaker()
        #expect(breaker.record(.transient("timeout"), job: 1, now: clock.now(), settings: settings) == nil)
        clock.advance(5)
        #expect(breaker.record(.transient("timeout"), job: 2, now: clock.now(), settings: settings) == nil)
        #expect(breaker.state == .closed)
        #expect(breaker.streak == 2)
        #expect(breaker.admit(now: clock.now()).0 == Allowance.unlimited)

        clock.advance(5)
        let recorded = breaker.record(
            .transient("exit 75 (EX_TEMPFAIL) is transient"), job: 3, now: clock.now(), settings: settings)
        let transition = try #require(recorded)
        #expect(transition.from == .closed)
        #expect(transition.to == .open)
        #expect(
            transition.reason == "3 consecutive transient failures (last: job 3: exit 75 (EX_TEMPFAIL) is transient)")
        #expect(breaker.state == .open)
        #expect(breaker.openUntil == clock.now() + 60)
        #expect(breaker.streak == 0)
        #expect(breaker.probeJob == nil)
        #expect(breaker.admit(now: clock.now()).0 == Allowance.none)
    }

    @Test("a success resets the streak")
    func successResets() {
        let clock = ManualClock()
        var breaker = CircuitBreaker()
        let inputs: [CircuitBreaker.Input] = [
            .transient("t"), .transient("t"), .success, .transient("t"), .transient("t"),
        ]
        for input in inputs {
            #expect(breaker.record(input, job: 1, now: clock.now(), settings: settings) == nil)
        }
        #expect(breaker.state == .closed)
        #expect(breaker.streak == 2)
        #expect(breaker.record(.transient("t"), job: 1, now: clock.now(), settings: settings) != nil)
        #expect(breaker.state == .open)
    }

    @Test("a neutral outcome neither counts nor resets")
    func neutralIgnored() {
        let clock = ManualClock()
        var breaker = CircuitBreaker()
        let inputs: [CircuitBreaker.Input] = [.transient("t"), .neutral, .transient("t"), .neutral, .neutral]
        for input in inputs {
            #expect(breaker.record(input, job: 1, now: clock.now(), settings: settings) == nil)
        }
        #expect(breaker.state == .closed)
        #expect(breaker.streak == 2)
        #expect(breaker.record(.transient("t"), job: 1, now: clock.now(), settings: settings) != nil)
        #expect(breaker.state == .open)
    }

    @Test("threshold 0 never opens")
    func thresholdZero() {
        let clock = ManualClock()
        var breaker = CircuitBreaker()
        for job in Int64(1)...1_000 {
            #expect(breaker.record(.transient("t"), job: job, now: clock.now(), settings: .default) == nil)
        }
        #expect(breaker.state == .closed)
        #expect(breaker.admit(now: clock.now()).0 == Allowance.unlimited)
    }

    @Test("threshold 1 opens on the first transient failure")
    func thresholdOne() {
        let clock = ManualClock()
        var breaker = CircuitBreaker()
        let one = CircuitBreaker.Settings(threshold: 1, pause: 10)
        let transition = breaker.record(.transient("t"), job: 9, now: clock.now(), settings: one)
        #expect(transition?.reason == "1 consecutive transient failures (last: job 9: t)")
        #expect(breaker.openUntil == clock.now() + 10)
    }

    @Test("an open breaker admits nothing until its pause is over, then one probe")
    func openUntilPauseIsOver() throws {
        let clock = ManualClock()
        var breaker = openBreaker(clock)
        let openUntil = try #require(breaker.openUntil)

        clock.advance(30)
        #expect(breaker.admit(now: clock.now()).0 == Allowance.none)
        clock.advance(29.999)
        let (before, noTransition) = breaker.admit(now: clock.now())
        #expect(before == Allowance.none)
        #expect(noTransition == nil)
        #expect(breaker.state == .open)
        #expect(breaker.openUntil == openUntil)

        clock.advance(0.002)
        let (after, transition) = breaker.admit(now: clock.now())
        #expect(after == Allowance.probe)
        #expect(transition?.from == .open)
        #expect(transition?.to == .half_open)
        #expect(transition?.reason == "the pause is over; one probe job may run")
        #expect(breaker.state == .half_open)
        #expect(breaker.openUntil == nil)
        #expect(breaker.probeJob == nil)
    }

    @Test("the pause is over exactly at openUntil")
    func pauseBoundary() {
        let clock = ManualClock()
        var breaker = openBreaker(clock)
        clock.advance(settings.pause)
        #expect(breaker.admit(now: clock.now()).0 == Allowance.probe)
    }

    @Test("half-open allows exactly one probe")
    func oneProbe() {
        let clock = ManualClock()
        var breaker = openBreaker(clock)
        clock.advance(60)
        #expect(breaker.admit(now: clock.now()).0 == Allowance.probe)
        // Until a probe is claimed, asking again still offers the probe, with no new transition.
        let (again, transition) = breaker.admit(now: clock.now())
        #expect(again == Allowance.probe)
        #expect(transition == nil)

        breaker.claimedProbe(42)
        #expect(breaker.probeJob == 42)
        for _ in 0..<3 {
            clock.advance(600)
            let (allowance, transition) = breaker.admit(now: clock.now())
            #expect(allowance == Allowance.none)
            #expect(transition == nil)
        }
        #expect(breaker.state == .half_open)
    }

    @Test("the probe's success closes the breaker")
    func probeSuccess() {
        let clock = ManualClock()
        var breaker = probingBreaker(clock)
        clock.advance(3)
        let transition = breaker.record(.success, job: 42, now: clock.now(), settings: settings)
        #expect(transition?.from == .half_open)
        #expect(transition?.to == .closed)
        #expect(transition?.reason == "probe job 42 succeeded")
        #expect(breaker == CircuitBreaker())
        #expect(breaker.admit(now: clock.now()).0 == Allowance.unlimited)

        // A closed breaker counts a fresh streak from zero.
        for job in Int64(50)...51 {
            #expect(breaker.record(.transient("t"), job: job, now: clock.now(), settings: settings) == nil)
        }
        #expect(breaker.record(.transient("t"), job: 52, now: clock.now(), settings: settings)?.to == .open)
    }

    @Test("the probe's transient failure opens the breaker again for a new pause")
    func probeFailure() throws {
        let clock = ManualClock()
        var breaker = probingBreaker(clock)
        clock.advance(7)
        let transition = breaker.record(
            .transient("a timeout is transient"), job: 42, now: clock.now(), settings: settings)
        #expect(transition?.from == .half_open)
        #expect(transition?.to == .open)
        #expect(transition?.reason == "probe job 42 failed: a timeout is transient")
        #expect(breaker.state == .open)
        #expect(breaker.openUntil == clock.now() + 60)
        #expect(breaker.probeJob == nil)
        #expect(breaker.streak == 0)

        clock.advance(59.999)
        #expect(breaker.admit(now: clock.now()).0 == Allowance.none)
        clock.advance(0.002)
        #expect(breaker.admit(now: clock.now()).0 == Allowance.probe)
    }

    @Test("the probe's neutral outcome lets another job probe")
    func probeNeutral() {
        let clock = ManualClock()
        var breaker = probingBreaker(clock)
        #expect(breaker.record(.neutral, job: 42, now: clock.now(), settings: settings) == nil)
        #expect(breaker.state == .half_open)
        #expect(breaker.probeJob == nil)
        #expect(breaker.admit(now: clock.now()).0 == Allowance.probe)
        breaker.claimedProbe(43)
        #expect(breaker.admit(now: clock.now()).0 == Allowance.none)
        #expect(breaker.record(.success, job: 43, now: clock.now(), settings: settings)?.to == .closed)
    }

    @Test(
        "outcomes of other jobs while half-open change nothing",
        arguments: [CircuitBreaker.Input.success, .transient("t"), .neutral])
    func otherJobsWhileHalfOpen(input: CircuitBreaker.Input) {
        let clock = ManualClock()
        var probing = probingBreaker(clock)
        let before = probing
        #expect(probing.record(input, job: 7, now: clock.now(), settings: settings) == nil)
        #expect(probing == before)

        // Before any probe is claimed, too.
        var waiting = openBreaker(clock)
        clock.advance(60)
        _ = waiting.admit(now: clock.now())
        let unclaimed = waiting
        #expect(waiting.record(input, job: 7, now: clock.now(), settings: settings) == nil)
        #expect(waiting == unclaimed)
    }

    @Test(
        "any outcome while open changes nothing",
        arguments: [CircuitBreaker.Input.success, .transient("t"), .neutral])
    func anythingWhileOpen(input: CircuitBreaker.Input) {
        let clock = ManualClock()
        var breaker = openBreaker(clock)
        let before = breaker
        clock.advance(10)
        for job in Int64(1)...5 {
            #expect(breaker.record(input, job: job, now: clock.now(), settings: settings) == nil)
        }
        #expect(breaker == before)
    }

    @Test("claiming a probe outside half-open is ignored")
    func claimOutsideHalfOpen() {
        let clock = ManualClock()
        var closed = CircuitBreaker()
        closed.claimedProbe(1)
        #expect(closed.probeJob == nil)
        var open = openBreaker(clock)
        open.claimedProbe(1)
        #expect(open.probeJob == nil)
    }

    @Test("secondsLeft counts down while open and is nil otherwise")
    func secondsLeft() {
        let clock = ManualClock()
        #expect(CircuitBreaker().secondsLeft(now: clock.now()) == nil)
        var breaker = openBreaker(clock)
        #expect(breaker.secondsLeft(now: clock.now()) == 60)
        clock.advance(15)
        #expect(breaker.secondsLeft(now: clock.now()) == 45)
        clock.advance(45)
        #expect(breaker.secondsLeft(now: clock.now()) == 0)
        // Past the pause but not yet admitted: still open, never negative.
        clock.advance(100)
        #expect(breaker.secondsLeft(now: clock.now()) == 0)
        _ = breaker.admit(now: clock.now())
        #expect(breaker.state == .half_open)
        #expect(breaker.secondsLeft(now: clock.now()) == nil)
    }
}

@Suite("PreflightGate")
struct PreflightGateTests {
    let ttl = PreflightStatus.defaultTTL

    @Test("the documented defaults")
    func defaults() {
        #expect(PreflightStatus.defaultTTL == 30)
        #expect(PreflightStatus.runTimeout == 60)
    }

    @Test("no command: open, whatever the status")
    func noCommand() {
        let clock = ManualClock()
        let failed = PreflightStatus(passed: false, checkedAt: clock.now(), reason: "exit 1")
        for command in [nil, ""] as [String?] {
            #expect(PreflightGate.evaluate(command: command, status: nil, ttl: ttl, now: clock.now()) == .open)
            #expect(PreflightGate.evaluate(command: command, status: failed, ttl: ttl, now: clock.now()) == .open)
        }
    }

    @Test("a command with no status needs a check")
    func noStatus() {
        let clock = ManualClock()
        #expect(PreflightGate.evaluate(command: "true", status: nil, ttl: ttl, now: clock.now()) == .needsCheck)
    }

    @Test("a fresh pass opens the gate")
    func freshPass() {
        let clock = ManualClock()
        let status = PreflightStatus(passed: true, checkedAt: clock.now())
        #expect(PreflightGate.evaluate(command: "ping -c1 db", status: status, ttl: ttl, now: clock.now()) == .open)
        clock.advance(29.999)
        #expect(PreflightGate.evaluate(command: "ping -c1 db", status: status, ttl: ttl, now: clock.now()) == .open)
    }

    @Test("a fresh failure closes the gate with its reason")
    func freshFailure() {
        let clock = ManualClock()
        let status = PreflightStatus(passed: false, checkedAt: clock.now(), reason: "exit 2: db unreachable")
        clock.advance(10)
        #expect(
            PreflightGate.evaluate(command: "check-db", status: status, ttl: ttl, now: clock.now())
                == .closed(reason: "exit 2: db unreachable"))
        let silent = PreflightStatus(passed: false, checkedAt: clock.now())
        #expect(
            PreflightGate.evaluate(command: "check-db", status: silent, ttl: ttl, now: clock.now())
                == .closed(reason: "preflight failed"))
    }

    @Test("a result is stale from exactly ttl on", arguments: [true, false])
    func stale(passed: Bool) {
        let clock = ManualClock()
        let status = PreflightStatus(passed: passed, checkedAt: clock.now(), reason: passed ? nil : "exit 1")
        clock.advance(ttl)
        #expect(status.expiresAt(ttl: ttl) == clock.now())
        #expect(!status.isFresh(now: clock.now(), ttl: ttl))
        #expect(PreflightGate.evaluate(command: "c", status: status, ttl: ttl, now: clock.now()) == .needsCheck)
        clock.advance(0.001)
        #expect(PreflightGate.evaluate(command: "c", status: status, ttl: ttl, now: clock.now()) == .needsCheck)
        clock.advance(3600)
        #expect(PreflightGate.evaluate(command: "c", status: status, ttl: ttl, now: clock.now()) == .needsCheck)
    }

    @Test("the queue's own ttl decides freshness")
    func customTTL() {
        let clock = ManualClock()
        let status = PreflightStatus(passed: true, checkedAt: clock.now())
        clock.advance(100)
        #expect(PreflightGate.evaluate(command: "c", status: status, ttl: 300, now: clock.now()) == .open)
        #expect(PreflightGate.evaluate(command: "c", status: status, ttl: 100, now: clock.now()) == .needsCheck)
        #expect(PreflightGate.evaluate(command: "c", status: status, ttl: 0, now: clock.now()) == .needsCheck)
    }

    @Test("a result from the future (the clock went back) is not trusted")
    func checkedInTheFuture() {
        let clock = ManualClock()
        let status = PreflightStatus(passed: true, checkedAt: clock.now() + 5)
        #expect(!status.isFresh(now: clock.now(), ttl: ttl))
        #expect(PreflightGate.evaluate(command: "c", status: status, ttl: ttl, now: clock.now()) == .needsCheck)
    }

    @Test("expiresAt is checkedAt plus ttl")
    func expiresAt() {
        let clock = ManualClock()
        let status = PreflightStatus(passed: true, checkedAt: clock.now())
        #expect(status.expiresAt(ttl: 30) == clock.now() + 30)
        #expect(status.expiresAt(ttl: 0) == clock.now())
        #expect(status.isFresh(now: clock.now(), ttl: 30))
    }
}

@Suite("PromptDetector")
struct PromptDetectorTests {
    @Test("the default stall time is 45 s")
    func defaultStallAfter() {
        #expect(PromptDetector.defaultStallAfter == 45)
    }

    @Test(
        "prompts are recognised",
        arguments: [
            "Password:",
            "[sudo] password for alice: ",
            "Enter passphrase for key '/home/a/.ssh/id_ed25519': ",
            "Proceed? [y/N]",
            "Overwrite? (yes/no)",
            "Do you want to continue? [Y/n]",
            "Continue?",
            "Press any key to continue",
            "Press ENTER to continue...",
            "Are you sure you want to delete it?",
            "Enter PIN: ",
            "  Password:  \n",
            "Overwrite existing file config.yml? ",
        ])
    func positive(line: String) {
        #expect(PromptDetector.looksLikePrompt(line))
    }

    @Test(
        "ordinary output is not a prompt",
        arguments: [
            "Compiling foo.swift",
            "password updated successfully",
            "",
            "   ",
            "Build complete!",
            "Downloading pinned dependencies: 3/7 done",
            "Overwrote 3 files.",
            "Test Suite 'All tests' passed",
        ])
    func negative(line: String) {
        #expect(!PromptDetector.looksLikePrompt(line))
    }

    @Test("a line over 400 characters is not a prompt")
    func tooLong() {
        #expect(PromptDetector.looksLikePrompt(String(repeating: "x", count: 389) + " Password:"))
        #expect(!PromptDetector.looksLikePrompt(String(repeating: "x", count: 391) + " Password:"))
    }

    @Test("lastLine skips trailing empty and blank lines")
    func lastLine() {
        #expect(PromptDetector.lastLine(of: "building\nPassword: \n\n  \n") == "Password: ")
        #expect(PromptDetector.lastLine(of: "one\ntwo") == "two")
        #expect(PromptDetector.lastLine(of: "one\r\ntwo\r\n\r\n") == "two")
        #expect(PromptDetector.lastLine(of: "only") == "only")
        #expect(PromptDetector.lastLine(of: "") == nil)
        #expect(PromptDetector.lastLine(of: "\n\n \t\n") == nil)
    }
}

// `observe` and `check` are mutating, which `#expect` can only evaluate as an operand:
// hence `== true` and `== false` below.
@Suite("StallTracker")
struct StallTrackerTests {
    /// A tracker with the default 45 s that has seen `size` bytes at the clock's time.
    func makeTracker(_ clock: ManualClock, size: Int64 = 100) -> StallTracker {
        var tracker = StallTracker(stallAfter: PromptDetector.defaultStallAfter, now: clock.now())
        #expect(tracker.observe(size: size, now: clock.now()) == false)
        return tracker
    }

    @Test("starts unflagged, with the silence counted from its start")
    func initial() {
        let clock = ManualClock()
        let tracker = StallTracker(stallAfter: 45, now: clock.now())
        #expect(!tracker.flagged)
        #expect(tracker.grewAt == clock.now())
        #expect(tracker.dueAt == clock.now() + 45)
    }

    @Test("growth resets the quiet time")
    func growthResets() {
        let clock = ManualClock()
        var tracker = makeTracker(clock)
        clock.advance(40)
        #expect(tracker.observe(size: 200, now: clock.now()) == false)
        #expect(tracker.size == 200)
        #expect(tracker.grewAt == clock.now())
        clock.advance(40)
        #expect(tracker.observe(size: 200, now: clock.now()) == false)
        // Output that shrinks (truncated or rotated) counts as a change too.
        #expect(tracker.observe(size: 10, now: clock.now()) == false)
        clock.advance(44)
        #expect(tracker.observe(size: 10, now: clock.now()) == false)
        clock.advance(1)
        #expect(tracker.observe(size: 10, now: clock.now()) == true)
    }

    @Test("quiet for less than stallAfter: nothing to check", arguments: [0, 1, 30, 44.9, 44.999])
    func quietTooShort(seconds: Double) {
        let clock = ManualClock()
        var tracker = makeTracker(clock)
        clock.advance(seconds)
        #expect(tracker.observe(size: 100, now: clock.now()) == false)
    }

    @Test("quiet for stallAfter or longer: check the last line", arguments: [45, 45.001, 3600])
    func quietLongEnough(seconds: Double) {
        let clock = ManualClock()
        var tracker = makeTracker(clock)
        clock.advance(seconds)
        #expect(tracker.observe(size: 100, now: clock.now()) == true)
    }

    @Test("a prompt flags the attempt once")
    func promptFlagsOnce() {
        let clock = ManualClock()
        var tracker = makeTracker(clock)
        clock.advance(45)
        #expect(tracker.observe(size: 100, now: clock.now()) == true)
        #expect(tracker.check(lastLine: "[sudo] password for alice: ") == true)
        #expect(tracker.flagged)
        #expect(tracker.check(lastLine: "[sudo] password for alice: ") == false)
        clock.advance(10)
        #expect(tracker.observe(size: 100, now: clock.now()) == false)
        // Even after more output and another long silence.
        #expect(tracker.observe(size: 150, now: clock.now()) == false)
        clock.advance(600)
        #expect(tracker.observe(size: 150, now: clock.now()) == false)
        #expect(tracker.check(lastLine: "Continue? [y/N]") == false)
    }

    @Test("a last line that is no prompt does not flag, and is checked again later")
    func nonPrompt() {
        let clock = ManualClock()
        var tracker = makeTracker(clock)
        clock.advance(45)
        #expect(tracker.observe(size: 100, now: clock.now()) == true)
        #expect(tracker.check(lastLine: "Compiling foo.swift") == false)
        #expect(tracker.check(lastLine: nil) == false)
        #expect(!tracker.flagged)
        clock.advance(10)
        #expect(tracker.observe(size: 100, now: clock.now()) == true)
        clock.advance(10)
        #expect(tracker.observe(size: 100, now: clock.now()) == true)
        #expect(tracker.check(lastLine: "Password:") == true)
    }

    @Test("stallAfter 0 (or less) disables detection", arguments: [0.0, -1])
    func disabled(stallAfter: Double) {
        let clock = ManualClock()
        var tracker = StallTracker(stallAfter: stallAfter, now: clock.now())
        #expect(tracker.observe(size: 5, now: clock.now()) == false)
        for _ in 0..<5 {
            clock.advance(86_400)
            #expect(tracker.observe(size: 5, now: clock.now()) == false)
        }
    }

    @Test("dueAt is the last growth plus stallAfter")
    func dueAt() {
        let clock = ManualClock()
        var tracker = makeTracker(clock)
        #expect(tracker.dueAt == clock.now() + 45)
        clock.advance(20)
        #expect(tracker.observe(size: 100, now: clock.now()) == false)
        #expect(tracker.dueAt == clock.now() + 25)
        #expect(tracker.observe(size: 101, now: clock.now()) == false)
        #expect(tracker.dueAt == clock.now() + 45)
        let custom = StallTracker(stallAfter: 5, now: clock.now())
        #expect(custom.dueAt == clock.now() + 5)
    }
}

@Suite("Retention")
struct RetentionTests {
    @Test("the default is 7 days")
    func defaultRetention() {
        #expect(Retention.defaultSeconds == 604_800)
    }

    @Test("the cutoff is now minus the retention", arguments: [Retention.defaultSeconds, 3600, 0.5])
    func cutoff(retention: Double) {
        let clock = ManualClock()
        clock.advance(1_000)
        #expect(Retention.cutoff(now: clock.now(), retention: retention) == clock.now() - retention)
    }

    @Test("a retention of 0 (or less) keeps everything", arguments: [0.0, -1])
    func off(retention: Double) {
        #expect(Retention.cutoff(now: ManualClock().now(), retention: retention) == nil)
    }
}
