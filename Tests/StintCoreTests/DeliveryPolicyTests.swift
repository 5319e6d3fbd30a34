import Foundation
import StintCore
import Testing

@Suite("DeliveryPolicy")
struct DeliveryPolicyTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("defaults: 3 attempts, 30 s doubling, capped at 300 s")
    func defaults() {
        let policy = DeliveryPolicy()
        #expect(policy.attempts == 3)
        #expect(policy.schedule == [0, 30, 90])
        #expect((1...6).map(policy.delay(after:)) == [30, 60, 120, 240, 300, 300])
        #expect(DeliveryPolicy(attempts: 6).schedule == [0, 30, 90, 210, 450, 750])
        #expect(DeliveryPolicy(attempts: 4, firstDelay: 1, maxDelay: 3).schedule == [0, 1, 3, 6])
    }

    @Test("HTTP statuses: 2xx success; 408, 429, 500, 502, 503, 504 transient; the rest permanent")
    func httpClasses() {
        let policy = DeliveryPolicy()
        for status in [200, 201, 202, 204, 299] {
            #expect(policy.verdict(for: .http(status: status, retryAfter: nil), now: now) == .success)
        }
        for status in [408, 429, 500, 502, 503, 504] {
            #expect(policy.verdict(for: .http(status: status, retryAfter: nil), now: now) == .transient(reason: "HTTP \(status)", retryAfter: nil))
        }
        for status in [100, 301, 302, 304, 400, 401, 403, 404, 405, 410, 413, 422, 501, 505] {
            #expect(policy.verdict(for: .http(status: status, retryAfter: nil), now: now) == .permanent(reason: "HTTP \(status)"))
        }
        #expect(policy.verdict(for: .connectionFailed("refused"), now: now) == .transient(reason: "cannot connect: refused", retryAfter: nil))
        #expect(policy.verdict(for: .timedOut, now: now) == .transient(reason: "no answer within 10 s", retryAfter: nil))
        #expect(policy.verdict(for: .invalidTarget("bad"), now: now) == .permanent(reason: "bad"))
    }

    @Test("command hooks: exit 0 success; 75 and the hook timeout transient; other exits and signals permanent")
    func commandClasses() {
        let policy = DeliveryPolicy()
        #expect(policy.verdict(for: .exited(0), now: now) == .success)
        #expect(policy.verdict(for: .exited(75), now: now) == .transient(reason: "exit 75 (EX_TEMPFAIL)", retryAfter: nil))
        #expect(policy.verdict(for: .commandTimedOut, now: now) == .transient(reason: "killed after the hook timeout of 60 s", retryAfter: nil))
        #expect(policy.verdict(for: .exited(1), now: now) == .permanent(reason: "exit 1"))
        #expect(policy.verdict(for: .signaled(15), now: now) == .permanent(reason: "killed by signal 15"))
        if case .transient = policy.verdict(for: .launchFailed("EAGAIN"), now: now) {} else { Issue.record("a launch failure is transient") }
    }

    @Test("decide: retry while attempts are left, then exhausted; permanent at once")
    func decisions() {
        let policy = DeliveryPolicy()
        let transient = DeliveryVerdict.transient(reason: "HTTP 503", retryAfter: nil)
        #expect(policy.decide(after: 1, verdict: transient, now: now) == DeliveryDecision(status: .pending, nextAt: now + 30, error: "HTTP 503"))
        #expect(policy.decide(after: 2, verdict: transient, now: now) == DeliveryDecision(status: .pending, nextAt: now + 60, error: "HTTP 503"))
        #expect(policy.decide(after: 3, verdict: transient, now: now) == DeliveryDecision(status: .exhausted, nextAt: nil, error: "HTTP 503 (attempt 3 of 3)"))
        #expect(policy.decide(after: 1, verdict: .permanent(reason: "HTTP 404"), now: now).status == .permanent)
        #expect(policy.decide(after: 1, verdict: .success, now: now) == DeliveryDecision(status: .success, nextAt: nil, error: nil))
        #expect(DeliveryPolicy(attempts: 1).decide(after: 1, verdict: transient, now: now).status == .exhausted)
    }

    @Test("Retry-After: seconds or HTTP-date; longer than the backoff wins; capped at 1 h")
    func retryAfter() {
        let policy = DeliveryPolicy()
        #expect(DeliveryPolicy.retryAfterSeconds("120", now: now) == 120)
        #expect(DeliveryPolicy.retryAfterSeconds(" 0 ", now: now) == 0)
        // 1_800_000_000 is Fri, 15 Jan 2027 08:00:00 GMT.
        #expect(DeliveryPolicy.retryAfterSeconds("Fri, 15 Jan 2027 08:03:20 GMT", now: now) == 200)
        #expect(DeliveryPolicy.retryAfterSeconds("Friday, 15-Jan-27 08:03:20 GMT", now: now) == 200)
        #expect(DeliveryPolicy.retryAfterSeconds("Fri Jan 15 08:03:20 2027", now: now) == 200)
        #expect(DeliveryPolicy.retryAfterSeconds("Thu, 14 Jan 2027 08:00:00 GMT", now: now) == 0)
        #expect(DeliveryPolicy.retryAfterSeconds("soon", now: now) == nil)
        #expect(DeliveryPolicy.retryAfterSeconds("-5", now: now) == nil)

        func next(_ header: String) -> Date? {
            policy.decide(after: 1, verdict: policy.verdict(for: .http(status: 503, retryAfter: header), now: now), now: now).nextAt
        }
        #expect(next("120") == now + 120)
        #expect(next("5") == now + 30)
        #expect(next("999999") == now + 3600)
        #expect(next("garbage") == now + 30)
        // Retry-After on a permanent answer changes nothing.
        #expect(policy.verdict(for: .http(status: 404, retryAfter: "10"), now: now) == .permanent(reason: "HTTP 404"))
    }

    @Test("--delivery-backoff MIN..MAX")
    func backoffRange() {
        #expect(DeliveryPolicy.backoffRange("30s..5m")! == (30, 300))
        #expect(DeliveryPolicy.backoffRange("1..1")! == (1, 1))
        #expect(DeliveryPolicy.backoffRange("5m..30s") == nil)
        #expect(DeliveryPolicy.backoffRange("30s") == nil)
        #expect(DeliveryPolicy.backoffRange("x..5m") == nil)
    }
}
