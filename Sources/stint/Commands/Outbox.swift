import ArgumentParser
import Foundation
import StintClient
import StintCore

#if canImport(Glibc)
    import Glibc
#endif

struct Notifications: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List pending notifications: jobs of a session that ended or stalled, breakers that opened.",
        discussion: """
            A notification is written in the same transaction as the change it reports and \
            stays pending until `stint ack NID`. With --session (or STINT_SESSION) only that \
            session's are listed. --watch streams them as NDJSON (one object per line): the \
            pending ones first, then each new one as it is written; it reconnects by itself \
            when the daemon restarts, resuming after the last id it printed, and a restarted \
            watcher starts again from the pending ones. A session keeps at most 1000 pending \
            notifications (stint daemon --notification-cap); the oldest are dropped beyond, \
            and the list says how many.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Stream pending and then new notifications as NDJSON until interrupted.")
    var watch = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Only notifications with a larger id.", valueName: "NID"))
    var after: Int64 = 0

    @Option(parsing: .unconditional, help: "Show at most this many, the oldest first.")
    var limit: Int = 1000

    func run() throws {
        try ValueParsing.atLeast(limit, 1, flag: "--limit")
        try ValueParsing.atLeast(after, 0, flag: "--after")
        let client = CLIEnvironment.client
        if watch { return try stream(client) }
        let list = try client.notifications(after: after, limit: limit)
        Output(format: global.output).emit(list, ndjson: list.notifications, meta: ["count": list.notifications.count, "dropped": list.dropped]) {
            var lines = list.notifications.map(Self.line)
            if lines.isEmpty { lines.append("no pending notifications") }
            if list.dropped > 0 { lines.append("(\(list.dropped) older notifications were dropped: the outbox was full)") }
            return lines.joined(separator: "\n")
        }
    }

    /// One notification as a line of text.
    static func line(_ notification: NotificationView) -> String {
        var text = "#\(notification.id) job \(notification.job) "
        switch notification.kind {
        case .ended:
            text += notification.state.rawValue
            if let code = notification.exitCode {
                text += " exit \(code)"
            } else if let signal = notification.signal {
                text += " signal \(signal)"
            } else if let reason = notification.reason, reason != notification.state.rawValue {
                text += " (\(reason))"
            }
            if let duration = notification.duration { text += " in \(DurationText.short(duration))" }
        case .stalled:
            text += "stalled: \(notification.message ?? "")"
        case .breakerOpen:
            text += "opened the breaker of \(notification.message ?? notification.queue)"
        case .schedulePaused:
            text += notification.message ?? "paused its schedule"
        }
        return text + ": \(notification.command)".truncated(to: 80)
    }

    private func stream(_ client: StintClient) throws {
        var last = after
        var announced = false
        // After the first connection, never start a daemon: one stopped on purpose stays stopped.
        var reconnecting = client
        reconnecting.autostartExecutable = nil
        var client = client
        let encoder = StintJSON.encoder()
        while true {
            do {
                try client.watchNotifications(after: last) { notification in
                    last = max(last, notification.id)
                    let line = String(decoding: try encoder.encode(notification), as: UTF8.self)
                    Output.out(line + "\n")
                    return true
                }
                announced = false
                client = reconnecting
            } catch let error as StintError where error.code == .unavailable {
                client = reconnecting
                if !announced {
                    Output.err("stint: daemon unavailable; reconnecting…\n")
                    announced = true
                }
            }
            // The daemon closed the stream (it stopped) or is away: come back after it.
            usleep(200_000)
        }
    }
}

struct Ack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Acknowledge notifications, which removes them from the pending list.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Notification ids (space- or comma-separated).")
    var ids: [String] = []

    @Flag(help: "Acknowledge every pending notification (of the session, with --session).")
    var all = false

    func run() throws {
        let client = CLIEnvironment.client
        var ids = try ids.isEmpty ? [] : ValueParsing.ids(ids)
        if all {
            guard ids.isEmpty else { throw StintError(.usage, "give ids or --all, not both") }
            ids = try client.notifications(limit: 100_000).notifications.map(\.id)
            if ids.isEmpty {
                Output(format: global.output).emit(AckResponse(acked: [], unknown: [])) { "no pending notifications" }
                return
            }
        }
        guard !ids.isEmpty else { throw StintError(.usage, "no notification ids given", hint: "stint ack NID… or stint ack --all") }
        let response = try client.ack(ids)
        Output(format: global.output).emit(response) {
            var lines: [String] = []
            if !response.acked.isEmpty { lines.append("acknowledged \(response.acked.map(String.init).joined(separator: ", "))") }
            if !response.unknown.isEmpty { lines.append("unknown: \(response.unknown.map(String.init).joined(separator: ", "))") }
            return lines.joined(separator: "\n")
        }
        if !response.unknown.isEmpty {
            throw CLIExit(status: response.acked.isEmpty ? StintError.Code.notFound.exitStatus : StintError.Code.partial.exitStatus)
        }
    }
}

struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A compact block of running and ended-but-unacknowledged jobs, for an agent's prompt.",
        discussion: """
            At most 10 running or waiting jobs (id, state, age, title, last output line or the \
            prompt it stalled at) and 10 ended jobs with pending notifications (id, outcome, \
            exit, duration, the notification id to ack); at most 2000 characters in all. \
            Titles are the `description` label, else the command, cut at 60 characters.
            """)

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let summary = try CLIEnvironment.client.summary()
        Output(format: global.output).emit(summary) { summary.text }
    }
}
