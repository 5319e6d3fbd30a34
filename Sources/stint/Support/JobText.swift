import Foundation
import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// How jobs read in text mode.
enum WaitSummary {
    /// `job 42 failed: exit 3 after 1.2s`.
    static func line(_ job: JobView) -> String {
        line(WaitOutcome.Job(job))
    }

    /// The same line from the fields `wait` reads.
    static func line(_ job: WaitOutcome.Job) -> String {
        var text = "job \(job.id) \(job.state.rawValue)"
        if let outcome = JobText.outcome(state: job.state, reason: job.reason, exitCode: job.exitCode, signal: job.signal) {
            text += ": \(outcome)"
        }
        if let duration = job.duration { text += " after \(DurationText.short(duration))" }
        return text
    }
}

enum JobText {
    /// The state as `ls` shows it: `running (stalled)`, `queued (in 12s)`, `queued (waiting for 2 jobs)`.
    static func stateLabel(_ job: JobView) -> String {
        var label = job.state.rawValue
        if job.state == .running, let progress = job.progress { label += " " + progress.text }
        if job.stalledAt != nil { label += " (stalled)" }
        if job.stopDeferred == true { label += " (stop deferred)" }
        if let waiting = job.waitingFor, waiting > 0 {
            label += " (waiting for \(waiting) job\(waiting == 1 ? "" : "s"))"
        } else if let runAt = job.runAt {
            label += " (in \(DurationText.short(max(0, runAt.timeIntervalSinceNow))))"
        }
        return label
    }

    /// `exit 3`, `signal 9`, `timeout`, `lost`, … for an ended job.
    static func outcome(_ job: JobView) -> String? {
        outcome(state: job.state, reason: job.reason, exitCode: job.exitCode, signal: job.signal)
    }

    static func outcome(state: JobState, reason: AttemptReason?, exitCode: Int?, signal: Int?) -> String? {
        switch reason {
        case .exited?: return exitCode.map { "exit \($0)" }
        case .signal?: return "signal \(signal ?? 0)"
        case let reason?: return reason.rawValue.replacingOccurrences(of: "_", with: " ")
        case nil: return state == .cancelled ? "cancelled" : nil
        }
    }

    static func age(_ date: Date) -> String {
        let seconds = max(0, Date().timeIntervalSince(date))
        if seconds < 60 { return "\(Int(seconds))s" }
        if seconds < 3600 { return "\(Int(seconds / 60))m" }
        if seconds < 86400 { return "\(Int(seconds / 3600))h" }
        return "\(Int(seconds / 86400))d"
    }
}

/// ANSI colours on a terminal, none when piped or with `NO_COLOR`.
struct Palette {
    let enabled: Bool

    static var stdout: Palette {
        let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        return Palette(enabled: isatty(STDOUT_FILENO) == 1 && !noColor)
    }

    func state(_ text: String, _ state: JobState) -> String {
        let code: String =
            switch state {
            case .succeeded: "32"
            case .failed: "31"
            case .running: "36"
            case .queued: "33"
            case .cancelled: "35"
            case .held: "2"
            }
        return paint(text, code)
    }

    func dim(_ text: String) -> String { paint(text, "2") }
    func bold(_ text: String) -> String { paint(text, "1") }

    private func paint(_ text: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

/// A plain-text table with columns padded to their widest cell.
struct Table {
    var header: [String]
    var rows: [[(text: String, styled: String)]] = []

    func render(palette: Palette, width: Int) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.text.count) }
        }
        var lines = [palette.bold(zip(header, widths).map { pad($0, $1) }.joined(separator: "  ")).trimmingTrailing()]
        for row in rows {
            let cells = row.enumerated().map { index, cell in
                cell.styled + String(repeating: " ", count: max(0, widths[index] - cell.text.count))
            }
            lines.append(cells.joined(separator: "  ").trimmingTrailing())
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }
}

extension String {
    func trimmingTrailing() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }

    /// At most `width` characters, with `…` when cut.
    func truncated(to width: Int) -> String {
        count <= width ? self : String(prefix(max(1, width - 1))) + "…"
    }
}

/// The terminal's width, or 120 when not a terminal.
func terminalWidth() -> Int {
    var size = winsize()
    if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init) { return columns }
    return 120
}
