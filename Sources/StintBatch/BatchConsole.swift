import Foundation
import StintCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Shows what happens during a batch.
public protocol BatchReporter: Sendable {
    /// Called as things happen, from any thread, one call at a time per batch run.
    func handle(_ event: BatchEvent)
    /// Called once with the summary when the batch ends (not after a forced exit).
    func finish(_ summary: BatchSummary)
}

/// The console reporter of `stint batch`: stdout for data, stderr for chatter.
///
/// - `text`: a progress bar with count, rate and ETA on stderr when stderr is a terminal
///   (redrawn every `progressEvery` units, and at any unit's end a second or more after the
///   last draw), plain lines every
///   `progressEvery` units otherwise; each failed unit's last output line on stderr; the
///   summary on stdout; `Aborted at N. Resume with: …` on stderr.
/// - `ndjson`: one line per unit as it ends, then `{"_meta": {summary…, "exit_code": …}}`.
/// - `json`: one document at the end: `{"status": "ok"|"error", "data": {"units": […],
///   "summary": {…}}, "error": {…}}` (error for exit 6, 7 and 8).
public final class BatchConsole: BatchReporter, Sendable {
    /// The output format.
    public enum Format: String, Sendable {
        case text, json, ndjson
    }

    private struct State {
        var results: [UnitResult] = []
        var lastDraw = Date.distantPast
        var barShown = false
    }

    private let format: Format
    private let progressEvery: Int64
    private let name: String
    private let terminal: Bool
    private let state = Mutex(State())

    /// Creates a reporter; `name` prefixes chatter lines (`stint batch: …`).
    public init(format: Format, progressEvery: Int = 10, name: String = "batch", terminal: Bool? = nil) {
        self.format = format
        self.progressEvery = Int64(max(1, progressEvery))
        self.name = name
        self.terminal = terminal ?? (isatty(2) == 1)
    }

    public func handle(_ event: BatchEvent) {
        state.withLock { state in
            switch event {
            case .started(_, _, _, let warnings):
                for warning in warnings { chatter(&state, warning) }
            case .warning(let text):
                chatter(&state, text)
            case .interrupted(let signal, let running):
                let units = running == 1 ? "1 running unit" : "\(running) running units"
                chatter(&state, "\(Self.signalName(signal)): finishing \(units), then stopping (send it again to stop at once)")
            case .forcedExit(let signal):
                chatter(&state, "\(Self.signalName(signal)) again: running units killed, exiting now (\(128 + signal))")
            case .unit(let result, let counts):
                unit(&state, result, counts)
            }
        }
    }

    public func finish(_ summary: BatchSummary) {
        state.withLock { state in
            clearBar(&state)
            let error = summary.error
            switch format {
            case .text:
                Self.out(Self.text(summary) + "\n")
                if let error, summary.abortedBy != nil {
                    Self.err(error.message + (error.hint.map { " \($0)" } ?? "") + "\n")
                }
            case .ndjson:
                Self.out(Self.encode(MetaLine(meta: Meta(summary: summary, error: error))) + "\n")
            case .json:
                let document = Document(units: state.results, summary: summary)
                let envelope = error.map { Envelope.failure($0, data: document) } ?? Envelope.ok(document)
                Self.out(Self.encode(envelope) + "\n")
            }
        }
    }

    // MARK: - Units and progress

    private func unit(_ state: inout State, _ result: UnitResult, _ counts: BatchCounts) {
        switch format {
        case .ndjson:
            Self.out(Self.encode(result) + "\n")
        case .json:
            state.results.append(result)
        case .text:
            if !result.ok {
                let how = result.message ?? result.exitCode.map { "exit \($0)" } ?? "failed"
                let last = result.outputTail?.split(separator: "\n").last.map { ": \($0)" } ?? ""
                chatter(&state, "unit \(result.unit) failed (\(how))\(last)")
            }
            let now = Date()
            let due = counts.ran % progressEvery == 0 || counts.done == counts.total
            if terminal {
                if due || now.timeIntervalSince(state.lastDraw) >= 1 {
                    Self.err("\r\u{1B}[2K" + Self.bar(counts))
                    state.barShown = true
                    state.lastDraw = now
                }
            } else if due {
                Self.err("\(name): " + Self.progressLine(counts) + "\n")
            }
        }
    }

    /// `120/1,000 (12.0%), 3.2 units/s, ETA 4m35s, 2 failed`.
    static func progressLine(_ counts: BatchCounts) -> String {
        var text = ProgressView(done: counts.done, total: counts.total, message: nil, updatedAt: Date()).text
        let rate = counts.elapsed > 0 ? Double(counts.ran) / counts.elapsed : 0
        if rate > 0 {
            text += ", \(rate.formatted(.number.precision(.fractionLength(0...1)).locale(Locale(identifier: "en_US")))) units/s"
            if counts.done < counts.total {
                text += ", ETA " + DurationText.short(Double(counts.total - counts.done) / rate)
            }
        }
        if counts.failed > 0 { text += ", \(counts.failed) failed" }
        return text
    }

    /// `[#######-----------------] 120/1,000 (12.0%), 3.2 units/s, ETA 4m35s`.
    static func bar(_ counts: BatchCounts, width: Int = 24) -> String {
        let filled = counts.total > 0 ? Int(Double(width) * Double(counts.done) / Double(counts.total)) : width
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            + progressLine(counts)
    }

    /// The summary as text: `101 units: 99 succeeded, 2 failed (53007, 53050)`.
    static func text(_ summary: BatchSummary) -> String {
        var text = "\(summary.total) units: \(summary.succeeded) succeeded, \(summary.failed) failed"
        if !summary.failedUnits.isEmpty {
            let shown = summary.failedUnits.prefix(20).joined(separator: ", ")
            text += " (\(shown)\(summary.failed > 20 ? ", …" : ""))"
        }
        if summary.skipped > 0 { text += ", \(summary.skipped) skipped" }
        let remaining = summary.total - summary.succeeded - summary.failed - summary.skipped
        if remaining > 0 { text += ", \(remaining) not run" }
        text += "; this run: \(summary.ran) in \(DurationText.short(summary.duration))"
        return text
    }

    private func chatter(_ state: inout State, _ text: String) {
        guard format == .text else {
            // Machine formats keep stdout clean; chatter still goes to stderr.
            Self.err("\(name): \(text)\n")
            return
        }
        clearBar(&state)
        Self.err("\(name): \(text)\n")
    }

    private func clearBar(_ state: inout State) {
        guard state.barShown else { return }
        Self.err("\r\u{1B}[2K")
        state.barShown = false
        state.lastDraw = .distantPast
    }

    private static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(signal)"
        }
    }

    // MARK: - Writing

    private struct Document: Codable, Sendable {
        var units: [UnitResult]
        var summary: BatchSummary
    }

    private struct MetaLine: Encodable {
        var meta: Meta
        enum CodingKeys: String, CodingKey { case meta = "_meta" }
    }

    /// The summary with the exit code (and the error for 6, 7 and 8) beside its fields.
    private struct Meta: Encodable {
        var summary: BatchSummary
        var error: StintError?
        enum CodingKeys: String, CodingKey { case exitCode, error }

        func encode(to encoder: any Encoder) throws {
            try summary.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(summary.exitCode, forKey: .exitCode)
            try container.encodeIfPresent(error, forKey: .error)
        }
    }

    private static func encode<T: Encodable>(_ value: T) -> String {
        String(decoding: (try? StintJSON.encoder().encode(value)) ?? Data(), as: UTF8.self)
    }

    private static func out(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
    private static func err(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
