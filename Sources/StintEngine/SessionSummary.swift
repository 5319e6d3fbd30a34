import Foundation
import StintCore
import StintStore
import StintRunner

/// A compact, bounded picture of a session for an agent's prompt (`stint summary`).
struct SessionSummary: Sendable {
    let context: EngineContext

    /// Running and waiting jobs, then ended jobs whose notifications are still pending, then
    /// the session's schedules with a failed run (the latest, and whether it paused them).
    /// Stable order: running by start, waiting by id, ended by notification.
    func summary(session: String?) async throws -> SummaryView {
        let store = context.store
        let now = context.clock.now()
        let live = try await store.list(JobFilter(states: [.running, .queued, .held], session: session, limit: 100_000))
        let running = live.filter { $0.state == .running }
            .sorted { ($0.attempts.last?.startedAt ?? $0.createdAt, $0.id) < ($1.attempts.last?.startedAt ?? $1.createdAt, $1.id) }
        let waiting = live.filter { $0.state != .running }.sorted { $0.id < $1.id }
        var active: [SummaryView.Active] = []
        for job in (running + waiting).prefix(SummaryView.maxEntries) {
            // Only a running job has a current attempt: its output, stall and progress.
            let attempt = job.state == .running ? job.attempts.last : nil
            let lastLine = attempt.flatMap { attempt in
                let log = context.processes.log(
                    AttemptID(job: job.id, attempt: attempt.number), cap: job.spec.outputCap ?? JobSpec.defaultOutputCap)
                return OutputLines.split(log.tail(lines: 1)).last.map { Self.shorten($0) }
            }
            active.append(
                SummaryView.Active(
                    id: job.id, state: job.state, title: Self.title(labels: job.spec.labels, command: job.spec.displayCommand),
                    age: now.timeIntervalSince(attempt?.startedAt ?? job.createdAt), lastLine: lastLine,
                    stalledAt: attempt?.stallLine.map { Self.shorten($0) },
                    progress: attempt != nil ? job.progress?.text : nil))
        }
        let pending = try await store.notifications(session: session, after: 0, limit: 100_000).notifications
            .filter { $0.kind == .ended }
        let ended = pending.prefix(SummaryView.maxEntries).map { notification in
            SummaryView.Ended(
                id: notification.job, notification: notification.id, state: notification.state,
                title: Self.title(labels: notification.labels, command: notification.command),
                exitCode: notification.exitCode, reason: notification.reason, duration: notification.duration)
        }
        let failing = try await store.schedules(session: session).filter { $0.state.lastFailedJob != nil }
            .sorted { $0.spec.name < $1.spec.name }
        let shownSchedules = Array(failing.prefix(SummaryView.maxEntries))
        let failedJobs = try await store.jobs(shownSchedules.compactMap(\.state.lastFailedJob))
        let schedules = zip(shownSchedules, failedJobs).map { record, job in
            SummaryView.Schedule(
                name: record.spec.name, lastFailedJob: record.state.lastFailedJob ?? 0,
                exitCode: job?.attempts.last?.outcome?.exitCode, failures: record.state.failures, paused: record.state.paused)
        }
        let omitted =
            (running.count + waiting.count - active.count) + (pending.count - ended.count)
            + (failing.count - schedules.count)
        let text = Self.summaryText(
            session: session, running: running.count, waiting: waiting.count, pending: pending.count, active: active,
            ended: Array(ended), schedules: schedules, omitted: omitted)
        return SummaryView(
            session: session, active: active, ended: Array(ended), omitted: omitted, text: text, schedules: schedules)
    }

    /// The `description` label, else the command, shortened.
    static func title(labels: [String: String], command: String) -> String {
        shorten(labels["description"] ?? command)
    }

    static func shorten(_ text: String) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        guard line.count > SummaryView.maxFieldCharacters else { return line }
        return String(line.prefix(SummaryView.maxFieldCharacters - 1)) + "…"
    }

    static func summaryText(
        session: String?, running: Int, waiting: Int, pending: Int, active: [SummaryView.Active],
        ended: [SummaryView.Ended], schedules: [SummaryView.Schedule] = [], omitted: Int
    ) -> String {
        var lines = [
            "stint\(session.map { " session \($0)" } ?? ""): \(running) running, \(waiting) waiting, \(pending) ended unacknowledged"
        ]
        for job in active {
            var line = "  #\(job.id) \(job.state.rawValue) \(compact(job.age))"
            if let progress = job.progress { line += " \(progress)" }
            line += ": \(job.title)"
            if let stalled = job.stalledAt {
                line += " | stalled at \"\(stalled)\""
            } else if let last = job.lastLine, !last.isEmpty {
                line += " | \(last)"
            }
            lines.append(line)
        }
        for job in ended {
            var outcome = job.state.rawValue
            if let code = job.exitCode { outcome += " exit \(code)" } else if let reason = job.reason { outcome += " (\(reason))" }
            if let duration = job.duration { outcome += " in \(compact(duration))" }
            lines.append("  #\(job.id) \(outcome): \(job.title) [ack \(job.notification)]")
        }
        for schedule in schedules {
            var line = "  schedule \(schedule.name): last failed run #\(schedule.lastFailedJob)"
            if let code = schedule.exitCode { line += " exit \(code)" }
            if schedule.failures > 1 { line += ", \(schedule.failures) in a row" }
            if schedule.paused { line += ", paused (stint schedule resume \(schedule.name))" }
            lines.append(line)
        }
        if omitted > 0 { lines.append("  … \(omitted) more (stint ls, stint notifications)") }
        var text = ""
        for (index, line) in lines.enumerated() {
            let rest = lines.count - index
            if text.count + line.count + 1 > SummaryView.maxCharacters - 40 {
                text += "  … \(rest) more lines\n"
                break
            }
            text += line + "\n"
        }
        return text
    }

    /// `42s`, `3m12s`, `2h05m`.
    static func compact(_ seconds: Double) -> String {
        let total = Int(max(0, seconds).rounded())
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total / 3600)h\(String(format: "%02d", total % 3600 / 60))m"
    }
}
