import Foundation
import StintCore

/// Rewords errors written for the CLI (they come from the daemon and from StintCore)
/// for an agent that has only this server's tools: `stint ls` becomes `list_jobs`,
/// `--stall-after` becomes `stall_after`, and hints naming a CLI command with no tool
/// behind it are dropped rather than sending the agent to a shell.
enum ToolWording {
    /// The CLI commands a tool does the job of, and that tool.
    private static let commands: [(pattern: String, tool: String)] = [
        ("`stint ls`", "list_jobs"),
        ("`stint show[^`]*`", "job_status"),
        ("`stint logs[^`]*`", "job_output"),
        ("`stint wait[^`]*`", "wait_for_job"),
        ("`stint stop[^`]*`", "stop_job"),
        ("`stint ack[^`]*`", "ack_notifications"),
        ("`stint notifications[^`]*`", "the pending_notifications of any result"),
    ]

    /// The flags a tool argument stands for.
    private static let flags: [(flag: String, argument: String)] = [
        ("--stall-after", "stall_after"), ("--timeout", "timeout"), ("--queue", "queue"), ("--cwd", "cwd"),
        ("--grace", "grace"), ("--until", "until"), ("--limit", "limit"), ("--tail", "tail"), ("--head", "head"),
    ]

    /// `error` in the tools' words.
    static func reword(_ error: StintError) -> StintError {
        var result = error
        result.message = reword(error.message)
        result.hint = error.hint.map(reword).flatMap { $0.contains("`stint ") || $0.contains("stint add") ? nil : $0 }
        return result
    }

    private static func reword(_ text: String) -> String {
        var text = text
        for (pattern, tool) in commands {
            text = text.replacingOccurrences(of: pattern, with: tool, options: .regularExpression)
        }
        for (flag, argument) in flags {
            text = text.replacingOccurrences(of: "\(flag)(?![a-z-])", with: argument, options: .regularExpression)
        }
        return text
    }
}
