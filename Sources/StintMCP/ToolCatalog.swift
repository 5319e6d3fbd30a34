import MCP

/// The tools the server offers, with the JSON schemas and descriptions an agent reads
/// to decide how to call them.
enum ToolCatalog {
    /// The tool names, as `tools/call` takes them.
    enum Name: String, CaseIterable {
        case startJob = "start_job"
        case jobStatus = "job_status"
        case jobOutput = "job_output"
        case waitForJob = "wait_for_job"
        case stopJob = "stop_job"
        case listJobs = "list_jobs"
        case ackNotifications = "ack_notifications"
        case listSchedules = "list_schedules"
    }

    /// The longest a `wait_for_job` or a `start_job` yield may wait, in seconds.
    static let maxWaitSeconds = 600.0
    /// What `wait_for_job` waits when no timeout is given, in seconds.
    static let defaultWaitSeconds = 120.0
    /// Lines `job_output` returns when neither head, tail nor a range is given.
    static let defaultOutputLines = 50
    /// Lines of output `start_job`, `job_status` and `wait_for_job` include.
    static let tailLines = 20
    /// Bytes of output `start_job`, `job_status` and `wait_for_job` include at most.
    static let tailBytes = 8 * 1024
    /// Jobs `list_jobs` returns when no limit is given, and the most it returns.
    static let listLimits = (default: 20, max: 200)

    /// The properties of each tool's input schema: the arguments it takes, by name.
    static func properties(of name: Name) -> [String: Value] {
        guard case .object(let schema) = tool(name).inputSchema, case .object(let properties)? = schema["properties"] else {
            return [:]
        }
        return properties
    }

    /// Every tool, in the order `tools/list` shows them.
    static var tools: [Tool] { Name.allCases.map(tool) }

    private static let pendingNote =
        " Every result also lists the session's pending notifications (jobs that ended or stalled) until you acknowledge them with ack_notifications."

    private static let durationNote = "a duration: seconds as a number, or text such as 90, 30s, 10m, 1h30m"

    static func tool(_ name: Name) -> Tool {
        switch name {
        case .startJob:
            Tool(
                name: name.rawValue, title: "Start a background job",
                description: """
                    Start a shell command as a durable background job of this session and return its id at once. \
                    The job keeps running if you, this server or the stint daemon restart; you are told when it ends \
                    (a notifications/message log notification, and the pending notifications in every tool result). \
                    Use yield_seconds to wait a little: if it ends within that time you get its outcome and output, \
                    otherwise state running and the output so far. Use it for builds, test suites, servers, downloads: \
                    anything slower than a few seconds.
                    """ + pendingNote,
                inputSchema: schema(
                    [
                        "command": property("string", "The command, run as `/bin/sh -c COMMAND`."),
                        "cwd": property("string", "Working directory (absolute, or relative to the server's); default: the server's."),
                        "description": property("string", "A short title for the job, shown in lists and notifications (stored as the label `description`)."),
                        "timeout": duration("Stop the job after this long (reason timeout): \(durationNote). Default: none."),
                        "stall_after": duration(
                            "Flag the job stalled (you are notified) when its output has not grown for this long and ends at a prompt: \(durationNote); 0 turns it off. Default 45s."),
                        "queue": property("string", "The queue to run in (each queue has its own concurrency limit); default `default`."),
                        "yield_seconds": property(
                            "number", "Wait up to this many seconds (0 to \(Int(maxWaitSeconds))) for the job before returning; default 0.",
                            minimum: 0, maximum: maxWaitSeconds),
                    ], required: ["command"]),
                annotations: .init(title: "Start a background job", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true))
        case .jobStatus:
            Tool(
                name: name.rawValue, title: "Job status",
                description: """
                    One job's state (held, queued, running, succeeded, failed, cancelled), exit code, reason \
                    (exited, signal, timeout, cancelled, lost, launch_error), duration, attempts and its last \(tailLines) lines of output.
                    """ + pendingNote,
                inputSchema: schema(["id": property("integer", "The job id.", minimum: 1)], required: ["id"]),
                annotations: .init(title: "Job status", readOnlyHint: true, openWorldHint: false))
        case .jobOutput:
            Tool(
                name: name.rawValue, title: "Job output",
                description: """
                    Read a job's output (stdout and stderr together, as written). Give one of: tail (last lines, \
                    default \(defaultOutputLines)), head (first lines), or offset with length (a byte range; page on with \
                    next_offset). regex keeps only the lines that match (with head/tail: the first/last matching lines). \
                    At most \(maxLines) lines and \(OutputWindow.maxBytes / 1024) KiB are returned; truncated says when the text was cut \
                    (for a range, next_offset then starts right after the text returned).
                    """ + pendingNote,
                inputSchema: schema(
                    [
                        "id": property("integer", "The job id.", minimum: 1),
                        "tail": property("integer", "The last N lines (1 to \(maxLines)).", minimum: 1, maximum: Double(maxLines)),
                        "head": property("integer", "The first N lines (1 to \(maxLines)).", minimum: 1, maximum: Double(maxLines)),
                        "offset": property("integer", "Byte offset into the log where a range starts.", minimum: 0),
                        "length": property(
                            "integer", "Bytes of the range (1 to \(OutputWindow.maxBytes)); default \(OutputWindow.maxBytes).",
                            minimum: 1, maximum: Double(OutputWindow.maxBytes)),
                        "regex": property("string", "Only lines matching this regular expression (ICU syntax)."),
                    ], required: ["id"]),
                annotations: .init(title: "Job output", readOnlyHint: true, openWorldHint: false))
        case .waitForJob:
            Tool(
                name: name.rawValue, title: "Wait for a job",
                description: """
                    Block until a job ends or a condition holds, for at most timeout seconds (default \(Int(defaultWaitSeconds)), \
                    at most \(Int(maxWaitSeconds)): call again to wait longer). until: end (default); stall (it waits at an \
                    interactive prompt); idle:DUR (its output has been quiet for DUR, e.g. idle:30s for a dev server that \
                    settled); output:REGEX (a line of output matches, e.g. output:listening on). Returns reason \
                    (succeeded, failed, cancelled, timeout, stalled, idle, matched, or wait_timeout when the timeout ran \
                    out first), the state, exit code, the matched line and the last lines of output.
                    """ + pendingNote,
                inputSchema: schema(
                    [
                        "id": property("integer", "The job id.", minimum: 1),
                        "until": property("string", "end, stall, idle:DUR or output:REGEX; default end."),
                        "timeout": property(
                            "number", "Seconds to wait at most (0 to \(Int(maxWaitSeconds))); default \(Int(defaultWaitSeconds)).",
                            minimum: 0, maximum: maxWaitSeconds),
                    ], required: ["id"]),
                annotations: .init(title: "Wait for a job", readOnlyHint: true, openWorldHint: false))
        case .stopJob:
            Tool(
                name: name.rawValue, title: "Stop a job",
                description: """
                    Cancel a job: a queued one never runs; a running one gets SIGTERM (its whole process tree), then \
                    SIGKILL after grace. Its state becomes cancelled.
                    """ + pendingNote,
                inputSchema: schema(
                    [
                        "id": property("integer", "The job id.", minimum: 1),
                        "grace": duration("Time between SIGTERM and SIGKILL: \(durationNote). Default 10s."),
                    ], required: ["id"]),
                annotations: .init(title: "Stop a job", readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false))
        case .listJobs:
            Tool(
                name: name.rawValue, title: "List jobs",
                description: """
                    This session's most recent jobs (oldest of them first): id, state, title, exit code, reason, duration.
                    """ + pendingNote,
                inputSchema: schema(
                    [
                        "state": [
                            "type": "array", "items": ["type": "string", "enum": ["held", "queued", "running", "succeeded", "failed", "cancelled"]],
                            "description": "Only jobs in these states (a list, or one state as a string); default all.",
                        ],
                        "limit": property(
                            "integer", "At most this many jobs (1 to \(listLimits.max)); default \(listLimits.default).",
                            minimum: 1, maximum: Double(listLimits.max)),
                    ], required: []),
                annotations: .init(title: "List jobs", readOnlyHint: true, openWorldHint: false))
        case .listSchedules:
            Tool(
                name: name.rawValue, title: "List schedules",
                description: """
                    This session's schedules (added with `stint schedule add`): name, cron expression or period, \
                    time zone, the next three fire times (RFC 3339, UTC), whether paused, the last run (job id, \
                    state, exit code) and the last failed run. Read-only.
                    """ + pendingNote,
                inputSchema: schema([:], required: []),
                annotations: .init(title: "List schedules", readOnlyHint: true, openWorldHint: false))
        case .ackNotifications:
            Tool(
                name: name.rawValue, title: "Acknowledge notifications",
                description: """
                    Acknowledge notifications (by the ids in pending_notifications, or all: true for all of this \
                    session's) so they stop being listed. Until acknowledged, a notification stays pending, \
                    across restarts of this server and of the daemon.
                    """,
                inputSchema: schema(
                    [
                        "ids": ["type": "array", "items": ["type": "integer", "minimum": 1], "description": "Notification ids (not job ids)."],
                        "all": property("boolean", "Acknowledge every pending notification of this session."),
                    ], required: []),
                annotations: .init(title: "Acknowledge notifications", readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false))
        }
    }

    private static var maxLines: Int { OutputWindow.maxLines }

    private static func schema(_ properties: [String: Value], required: [String]) -> Value {
        [
            "type": "object",
            "properties": .object(properties),
            "required": .array(required.map { .string($0) }),
            "additionalProperties": false,
        ]
    }

    /// A duration argument: seconds as a number, or text such as `30s`, as
    /// ``StintCore/JobLine`` reads a job's and ``ToolArguments/duration(_:)`` the others.
    private static func duration(_ description: String) -> Value {
        ["type": ["number", "string"], "description": .string(description)]
    }

    private static func property(_ type: String, _ description: String, minimum: Double? = nil, maximum: Double? = nil) -> Value {
        var object: [String: Value] = ["type": .string(type), "description": .string(description)]
        if let minimum { object["minimum"] = type == "integer" ? .int(Int(minimum)) : .double(minimum) }
        if let maximum { object["maximum"] = type == "integer" ? .int(Int(maximum)) : .double(maximum) }
        return .object(object)
    }
}
