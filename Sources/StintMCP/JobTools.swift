import Foundation
import MCP
import StintClient
import StintCore

/// The tools' work: each reads its arguments, makes the blocking client calls off the
/// cooperative pool, and returns a ``Reply`` value.
///
/// The client is scoped to the server's session, so the daemon itself answers
/// `E_NOT_FOUND` for any other session's job; nothing here filters by hand.
struct JobTools: Sendable {
    /// The session every call is scoped to and every job joins.
    let session: String
    /// The scoped client.
    let client: StintClient
    /// Where blocking calls run.
    let calls: BlockingCalls
    /// The default working directory of jobs: the server's.
    let workingDirectory: String
    /// The environment jobs run with: the server's, as the CLI captures the caller's.
    let environment: [String: String]

    /// Variables the daemon sets for each job; a job started from within a job must not inherit them.
    static let jobVariables: Set<String> = ["STINT_JOB_ID", "STINT_ATTEMPT", "STINT_QUEUE", "STINT_CHECKPOINT", "STINT_RUN_DIR"]

    /// Runs tool `name` with `arguments`.
    func call(_ name: ToolCatalog.Name, _ arguments: [String: Value]?) async throws -> any Encodable & Sendable {
        let arguments = try ToolArguments(arguments, tool: name.rawValue, properties: ToolCatalog.properties(of: name))
        switch name {
        case .startJob: return try await startJob(arguments)
        case .jobStatus: return try await jobStatus(arguments)
        case .jobOutput: return try await jobOutput(arguments)
        case .waitForJob: return try await waitForJob(arguments)
        case .stopJob: return try await stopJob(arguments)
        case .listJobs: return try await listJobs(arguments)
        case .listSchedules: return try await listSchedules()
        case .ackNotifications: return try await ackNotifications(arguments)
        }
    }

    // MARK: - The tools

    /// The arguments of `start_job` that are its own: the others are fields of an
    /// `add --from` line (``StintCore/JobLine``), under the same names. `cwd` is one too,
    /// but here it is relative to the server's and must exist.
    private static let startJobOwnArguments: Set<String> = ["cwd", "description", "yield_seconds"]

    private func startJob(_ arguments: ToolArguments) async throws -> Reply.Job {
        let command = try arguments.requiredString("command")
        let cwd = try directory(arguments.string("cwd"), arguments)
        let description = try arguments.string("description").flatMap { $0.isEmpty ? nil : $0 }
        let defaults = JobSpec(
            shell: command, cwd: cwd, env: environment, labels: description.map { ["description": $0] } ?? [:], session: session)
        let spec = try arguments.jobSpec(defaults, applyingAllBut: Self.startJobOwnArguments)
        if let timeout = spec.timeout, timeout <= 0 { throw arguments.mistake("timeout", "must be above 0") }
        if let stallAfter = spec.stallAfter, stallAfter < 0 { throw arguments.mistake("stall_after", "must not be negative") }
        let yield = try waitSeconds(arguments, "yield_seconds", default: 0)
        try spec.validate()
        let client = client
        let id = try await calls.run(client) { client in try client.add([spec]) }.ids[0]
        guard yield > 0 else {
            var reply = Reply.Job(try await calls.run(client) { client in try client.show(id) })
            reply.note = "started; wait_for_job waits for it, or carry on: you will be notified when it ends"
            return reply
        }
        let waited = try await calls.run(client) { client in try client.wait([id], any: false, timeout: yield) }
        guard let job = waited.jobs.first else { throw StintError.jobNotFound(id) }
        var reply = try await report(job)
        if waited.done {
            reply.waitReason = waited.reason
        } else {
            reply.note = "still \(job.state.rawValue) after \(Self.format(yield)) s; it goes on in the background: wait_for_job waits for it, or carry on: you will be notified when it ends"
        }
        return reply
    }

    private func jobStatus(_ arguments: ToolArguments) async throws -> Reply.Job {
        let id = try arguments.jobID()
        let client = client
        return try await report(try await calls.run(client) { client in try client.show(id) })
    }

    private func jobOutput(_ arguments: ToolArguments) async throws -> Reply.Output {
        let id = try arguments.jobID()
        let limit = Int64(OutputWindow.maxLines)
        let head = try arguments.integer("head", in: 1...limit).map(Int.init)
        let tail = try arguments.integer("tail", in: 1...limit).map(Int.init)
        let offset = try arguments.integer("offset", in: 0...Int64.max)
        let length = try arguments.integer("length", in: 1...Int64(OutputWindow.maxBytes))
        guard [head != nil, tail != nil, offset != nil].filter({ $0 }).count <= 1 else {
            throw StintError(.usage, "job_output: give one of tail, head or offset", hint: "tail and head count lines; offset (with length) is a byte range")
        }
        if length != nil, offset == nil { throw arguments.mistake("length", "needs offset") }
        let pattern = try arguments.string("regex")
        let filter = try pattern.map { pattern throws(StintError) in
            do {
                return try NSRegularExpression(pattern: pattern)
            } catch {
                throw arguments.mistake("regex", "is not a regular expression: \(pattern)")
            }
        }
        let selection: OutputWindow.Selection
        let label: String
        if let head {
            (selection, label) = (.head(head), "head \(head)")
        } else if let offset {
            let length = length ?? Int64(OutputWindow.maxBytes)
            (selection, label) = (.range(offset: offset, length: length), "range \(offset)+\(length)")
        } else {
            let tail = tail ?? ToolCatalog.defaultOutputLines
            (selection, label) = (.tail(tail), "tail \(tail)")
        }
        let client = client
        let job = try await calls.run(client) { client in try client.show(id) }
        let excerpt = try await excerpt(id, selection, filter: filter)
        var note: String?
        if excerpt.truncated {
            note = "cut to \(OutputWindow.maxBytes / 1024) KiB: ask for fewer lines, or page with offset and length"
        } else if job.state == .queued || job.state == .held {
            note = "the job has not started yet"
        }
        return Reply.Output(
            id: id, state: job.state, selection: label, regex: pattern, text: excerpt.text, lines: excerpt.lines,
            truncated: excerpt.truncated, nextOffset: excerpt.nextOffset, endOfLog: excerpt.endOfLog, note: note)
    }

    private func waitForJob(_ arguments: ToolArguments) async throws -> Reply.Job {
        let id = try arguments.jobID()
        let until: WaitUntil
        do {
            until = try WaitUntil(parsing: try arguments.string("until") ?? "end")
        } catch {
            throw StintError(.usage, "wait_for_job: 'until' " + error.message.replacingOccurrences(of: "--until ", with: ""), hint: error.hint)
        }
        let timeout = try waitSeconds(arguments, "timeout", default: ToolCatalog.defaultWaitSeconds)
        let client = client
        let waited = try await calls.run(client) { client in try client.wait([id], any: false, timeout: timeout, until: until) }
        guard let job = waited.jobs.first else { throw StintError.jobNotFound(id) }
        var reply = try await report(job)
        reply.waitReason = waited.reason ?? (waited.done ? nil : .waitTimeout)
        reply.match = waited.match
        if !waited.done {
            reply.note = "the job is still \(job.state.rawValue) after \(Self.format(timeout)) s; call wait_for_job again to wait longer"
        }
        return reply
    }

    private func stopJob(_ arguments: ToolArguments) async throws -> Reply.Job {
        let id = try arguments.jobID()
        let grace = try arguments.duration("grace")
        if let grace, grace < 0 { throw arguments.mistake("grace", "must not be negative") }
        let client = client
        let results = try await calls.run(client) { client in try client.stop([id], grace: grace) }
        if let error = results.first?.error { throw error }
        // The stop is under way; wait for its end (SIGKILL comes after the grace) so the
        // answer says cancelled rather than still running.
        let bound = (grace ?? 10) + 5
        let waited = try await calls.run(client) { client in try client.wait([id], any: false, timeout: bound) }
        guard let job = waited.jobs.first else { throw StintError.jobNotFound(id) }
        var reply = try await report(job)
        if !waited.done { reply.note = "the stop was asked for; the job has not ended yet" }
        return reply
    }

    private func listJobs(_ arguments: ToolArguments) async throws -> Reply.Jobs {
        var states: [JobState] = []
        for name in try arguments.strings("state") ?? [] {
            guard let state = JobState(rawValue: name.lowercased()) else {
                throw arguments.mistake("state", "has an unknown state '\(name)'", hint: "states: \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            states.append(state)
        }
        let limit = Int(try arguments.integer("limit", in: 1...Int64(ToolCatalog.listLimits.max)) ?? Int64(ToolCatalog.listLimits.default))
        let (client, session, wanted) = (client, session, states)
        let jobs = try await calls.run(client) { client in try client.list(states: wanted, session: session, limit: limit) }
        return Reply.Jobs(session: session, jobs: jobs.map(Reply.JobLine.init), limit: limit)
    }

    private func listSchedules() async throws -> Reply.Schedules {
        let (client, session) = (client, session)
        let schedules = try await calls.run(client) { client in try client.schedules() }
        return Reply.Schedules(session: session, schedules: schedules.map(Reply.ScheduleLine.init))
    }

    private func ackNotifications(_ arguments: ToolArguments) async throws -> Reply.Acked {
        let ids = try arguments.ids("ids")
        let all = try arguments.bool("all") ?? false
        let client = client
        switch (ids, all) {
        case (let ids?, false):
            guard !ids.isEmpty else { throw arguments.mistake("ids", "is empty") }
            let answer = try await calls.run(client) { client in try client.ack(ids) }
            return Reply.Acked(acked: answer.acked, unknown: answer.unknown)
        case (nil, true):
            return try await calls.run(client) { client in
                var acked: [Int64] = []
                var after: Int64 = 0
                while true {
                    let page = try client.notifications(after: after, limit: 500).notifications
                    guard let last = page.last else { break }
                    acked += try client.ack(page.map(\.id)).acked
                    after = last.id
                }
                return Reply.Acked(acked: acked, unknown: [])
            }
        default:
            throw StintError(.usage, "ack_notifications: give either ids or all: true")
        }
    }

    // MARK: - Helpers

    /// The pending notifications of the session, compact, for every result.
    func pending() async -> Reply.Pending? {
        let client = client
        let shown = 20
        guard let list = try? await calls.run(client, { client in try client.notifications(limit: 1000) }), !list.notifications.isEmpty || list.dropped > 0 else {
            return nil
        }
        return Reply.Pending(
            pendingNotifications: list.notifications.prefix(shown).map(Reply.PendingNotification.init),
            pendingOmitted: list.notifications.count > shown ? list.notifications.count - shown : nil,
            pendingDropped: list.dropped > 0 ? list.dropped : nil,
            pendingHint: "acknowledge with ack_notifications (ids or all: true) once you have taken them in")
    }

    /// The job with its last lines of output.
    private func report(_ job: JobView) async throws -> Reply.Job {
        var reply = Reply.Job(job)
        guard job.startedAt != nil || job.attempts > 0 else { return reply }
        let excerpt = try await excerpt(job.id, .tail(ToolCatalog.tailLines), filter: nil, maxBytes: ToolCatalog.tailBytes)
        reply.attach(excerpt)
        return reply
    }

    /// Streams the job's log through a window, stopping as soon as the window is complete.
    private func excerpt(
        _ id: Int64, _ selection: OutputWindow.Selection, filter: NSRegularExpression?, maxBytes: Int = OutputWindow.maxBytes
    ) async throws -> OutputWindow.Excerpt {
        struct Enough: Error {}
        // Without a filter the daemon cuts the head or tail itself; with one, every line is read.
        var (head, tail): (Int?, Int?) = (nil, nil)
        switch (selection, filter) {
        case (.head(let lines), nil): head = lines
        case (.tail(let lines), nil): tail = lines
        default: break
        }
        let (client, daemonHead, daemonTail) = (client, head, tail)
        return try await calls.run(client) { client in
            var window = OutputWindow(selection, filter: filter, maxBytes: maxBytes)
            do {
                try client.log(id, head: daemonHead, tail: daemonTail) { data in
                    window.consume(data)
                    if window.isComplete { throw Enough() }
                }
            } catch is Enough {}
            return window.finish()
        }
    }

    /// A working directory: absolute, or relative to the server's; it must exist.
    private func directory(_ given: String?, _ arguments: ToolArguments) throws(StintError) -> String {
        guard let given, !given.isEmpty else { return workingDirectory }
        let path = given.hasPrefix("/") ? given : workingDirectory + "/" + given
        let standardized = (path as NSString).standardizingPath
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: standardized, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw arguments.mistake("cwd", "is not a directory: \(standardized)")
        }
        return standardized
    }

    /// Seconds to wait, within the tools' bound.
    private func waitSeconds(_ arguments: ToolArguments, _ name: String, default value: Double) throws(StintError) -> Double {
        guard let seconds = try arguments.number(name) else { return value }
        guard seconds >= 0 else { throw arguments.mistake(name, "must not be negative") }
        guard seconds <= ToolCatalog.maxWaitSeconds else {
            throw arguments.mistake(
                name, "is \(Self.format(seconds)) s, more than the most a call may wait (\(Int(ToolCatalog.maxWaitSeconds)) s)",
                hint: "wait at most \(Int(ToolCatalog.maxWaitSeconds)) s per call, and call wait_for_job again to wait longer")
        }
        return seconds
    }

    private static func format(_ seconds: Double) -> String {
        seconds.formatted(.number.grouping(.never).precision(.fractionLength(0...3)))
    }
}
