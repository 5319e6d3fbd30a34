import Foundation
import StintCore
import Testing

@Suite("NotificationComposer")
struct NotificationComposerTests {
    let now = RuleFixtures.clock.now()

    @Test("a job is heard with a session, a hook of its own or a hook of its queue; otherwise nothing is written")
    func heard() {
        var job = RuleFixtures.job(1)
        #expect(!NotificationComposer.isHeard(job, queue: nil))
        job.spec.session = "s"
        #expect(NotificationComposer.isHeard(job, queue: nil))
        job.spec.session = nil
        var settings = RuleFixtures.queue("default").settings
        settings.onEnd = "echo done"
        #expect(NotificationComposer.isHeard(job, queue: settings))
    }

    @Test("an end carries the outcome, the reason and the trimmed tail")
    func ended() {
        var job = RuleFixtures.job(1, state: .failed, attempts: 1, session: "s")
        let outcome = AttemptOutcome(reason: .exited, exitCode: 3, startedAt: now.addingTimeInterval(-2), endedAt: now)
        job.attempts = [StoredAttempt(number: 1, startedAt: now.addingTimeInterval(-2), host: "h", outcome: outcome)]
        let long = String(repeating: "x", count: NotificationView.tailLineBytes + 10)
        let notification = NotificationComposer.ended(
            job, attempt: 1, tail: (1...12).map { "line \($0)" } + [long], log: "/log", now: now)
        #expect(notification.kind == .ended)
        #expect(notification.exitCode == 3)
        #expect(notification.reason == "exited")
        #expect(notification.duration == 2)
        #expect(notification.tail.count == NotificationView.tailLines)
        #expect(notification.tail.last?.hasSuffix("…") == true)
    }

    @Test("a cancelled job that never ran says cancelled with its end reason")
    func cancelledWithoutRunning() {
        var job = RuleFixtures.job(2, state: .cancelled)
        job.endReason = "dependency 1 failed"
        let notification = NotificationComposer.ended(job, attempt: 1, tail: [], log: nil, now: now)
        #expect(notification.reason == "cancelled")
        #expect(notification.message == "dependency 1 failed")
    }

    @Test("webhooks hear every kind; command hooks only ends; the job's come before its queue's")
    func deliveries() {
        var job = RuleFixtures.job(1)
        job.spec.notify = "http://job"
        job.spec.onEnd = "job-cmd"
        var settings = RuleFixtures.queue("default").settings
        settings.notify = "http://queue"
        settings.onEnd = "queue-cmd"
        let ended = NotificationComposer.ended(job, attempt: 1, tail: [], log: nil, now: now)
        #expect(
            NotificationComposer.deliveries(of: ended, job: job, queue: settings).map(\.target)
                == ["http://job", "http://queue", "job-cmd", "queue-cmd"])
        let stalled = NotificationComposer.stalled(job, attempt: 1, line: "Password:", now: now)
        #expect(NotificationComposer.deliveries(of: stalled, job: job, queue: settings).map(\.channel) == [.webhook, .webhook])
    }

    @Test("the outbox keeps at most its cap: the excess is what to drop")
    func excess() {
        #expect(NotificationComposer.excess(pending: 5, cap: 5) == 0)
        #expect(NotificationComposer.excess(pending: 7, cap: 5) == 2)
        #expect(NotificationComposer.excess(pending: 3, cap: 0) == 2)
    }
}
