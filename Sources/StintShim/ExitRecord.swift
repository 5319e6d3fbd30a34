import Glibc

/// What `exit.json` says about a finished job: one JSON object on one line, with every key
/// always present and in this order:
///
///     {"version":1,"reason":"exited","exit_code":0,"signal":null,"started_at":1763740000.123456,
///      "ended_at":1763740001.500000,"pid":12345,"peak_rss_bytes":1234567,"output_bytes":100,
///      "dropped_bytes":0,"message":null}
struct ExitRecord {
    enum Reason {
        /// The command exited on its own.
        case exited
        /// The command was killed by a signal that stint did not send.
        case signal
        /// The deadline fired and the shim terminated the tree.
        case timeout
        /// A stop request (SIGTERM, SIGINT or SIGHUP to the shim) terminated the tree.
        case cancelled
        /// The command never started (bad working directory, command not found, ...).
        case launchError

        var name: StaticString {
            switch self {
            case .exited: "exited"
            case .signal: "signal"
            case .timeout: "timeout"
            case .cancelled: "cancelled"
            case .launchError: "launch_error"
            }
        }
    }

    var reason: Reason
    var exitCode: Int32?
    var signal: Int32?
    var startedAt: Timestamp
    var endedAt: Timestamp
    /// The command's pid; nil when it never started.
    var pid: pid_t?
    var peakRSSBytes: UInt64
    /// Every byte the command wrote, kept or not.
    var outputBytes: UInt64
    /// Bytes that the output cap discarded (they are not in the log).
    var droppedBytes: UInt64

    /// The record, with `message` (raw bytes, escaped here) or null, and a final newline.
    func render(message: UnsafeRawBufferPointer?, into json: inout TextBuffer) {
        func optional(_ value: Int32?) {
            if let value { json.append(decimal: Int64(value)) } else { json.append("null") }
        }
        json.append("{\"version\":1,\"reason\":\"")
        json.append(reason.name)
        json.append("\",\"exit_code\":")
        optional(exitCode)
        json.append(",\"signal\":")
        optional(signal)
        json.append(",\"started_at\":")
        startedAt.appendJSON(to: &json)
        json.append(",\"ended_at\":")
        endedAt.appendJSON(to: &json)
        json.append(",\"pid\":")
        optional(pid)
        json.append(",\"peak_rss_bytes\":")
        json.append(decimal: peakRSSBytes)
        json.append(",\"output_bytes\":")
        json.append(decimal: outputBytes)
        json.append(",\"dropped_bytes\":")
        json.append(decimal: droppedBytes)
        json.append(",\"message\":")
        if let message { json.appendJSONString(message) } else { json.append("null") }
        json.append("}\n")
    }
}
