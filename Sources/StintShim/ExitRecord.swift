import Glibc

/// What `exit.json` says about a finished job. Rendered by hand (no Foundation) as one JSON
/// object on one line, with the keys always present and in this order.
struct ExitRecord {
    enum Reason: String {
        /// The command exited on its own.
        case exited
        /// The command was killed by a signal nobody in stint sent on purpose.
        case signal
        /// The deadline fired and the shim terminated the tree.
        case timeout
        /// A stop request (SIGTERM, SIGINT or SIGHUP to the shim) terminated the tree.
        case cancelled
        /// The command never started (bad working directory, command not found, ...).
        case launchError = "launch_error"
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
    /// Bytes the output cap discarded (they are not in the log).
    var droppedBytes: UInt64
    var message: String?

    var json: String {
        func number<T: BinaryInteger>(_ value: T?) -> String { value.map { String($0) } ?? "null" }
        let fields = [
            "\"version\":1",
            "\"reason\":\"\(reason.rawValue)\"",
            "\"exit_code\":\(number(exitCode))",
            "\"signal\":\(number(signal))",
            "\"started_at\":\(startedAt.json)",
            "\"ended_at\":\(endedAt.json)",
            "\"pid\":\(number(pid))",
            "\"peak_rss_bytes\":\(peakRSSBytes)",
            "\"output_bytes\":\(outputBytes)",
            "\"dropped_bytes\":\(droppedBytes)",
            "\"message\":\(message.map(Self.jsonString) ?? "null")",
        ]
        return "{" + fields.joined(separator: ",") + "}\n"
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped. Swift
    /// strings are valid Unicode, so everything else can be written as UTF-8 unchanged.
    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{00}"..."\u{1F}", "\u{7F}":
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
