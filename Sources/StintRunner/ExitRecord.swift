import Foundation
public import StintCore

/// The exit record a shim writes atomically (temp file + rename) to `RUN_DIR/exit.json`
/// once the whole process tree of its job has exited.
public struct ExitRecord: Sendable, Hashable, Decodable {
    /// Format version; 1.
    public var version: Int
    /// `exited`, `signal`, `timeout`, `cancelled` or `launch_error`.
    public var reason: String
    /// The command's exit status when it exited normally.
    public var exitCode: Int?
    /// The signal that killed the command.
    public var signal: Int?
    /// Epoch seconds when the command started.
    public var startedAt: Double
    /// Epoch seconds when the tree had exited.
    public var endedAt: Double
    /// Peak RSS of the largest reaped descendant.
    public var peakRssBytes: Int64?
    /// Bytes of output read.
    public var outputBytes: Int64?
    /// Bytes of output dropped by the cap.
    public var droppedBytes: Int64?
    /// A detail such as a launch error.
    public var message: String?

    /// The record in `runDirectory`, or `nil` when there is none (yet).
    public static func read(runDirectory: String) throws -> ExitRecord? {
        guard let data = FileManager.default.contents(atPath: RunFolder.path(runDirectory, RunFolder.exitRecord)) else {
            return nil
        }
        return try decode(data)
    }

    /// The record in `data`: read by hand (StintCore's ``JSONValue``: every ending reads
    /// one, and JSONDecoder took a few per cent of the daemon's time in a drain), or by
    /// JSONDecoder when that does not read it, so a bad record fails with the error it had.
    static func decode(_ data: Data) throws -> ExitRecord {
        if let record = handRead(data) { return record }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ExitRecord.self, from: data)
    }

    private static func handRead(_ data: Data) -> ExitRecord? {
        guard let value = JSONValue.parse(data), case .object = value,
            let version = value["version"]?.integer(Int.self), let reason = value["reason"]?.stringValue,
            let startedAt = value["started_at"]?.doubleValue, let endedAt = value["ended_at"]?.doubleValue
        else { return nil }
        /// `.some(nil)` for a member missing or null, `nil` for one of another type.
        func optional<T>(_ name: String, _ read: (JSONValue) -> T?) -> T?? {
            guard let member = value[name], !member.isNull else { return .some(nil) }
            return read(member).map { .some($0) } ?? nil
        }
        guard let exitCode = optional("exit_code", { $0.integer(Int.self) }),
            let signal = optional("signal", { $0.integer(Int.self) }),
            let peakRss = optional("peak_rss_bytes", { $0.integer(Int64.self) }),
            let outputBytes = optional("output_bytes", { $0.integer(Int64.self) }),
            let droppedBytes = optional("dropped_bytes", { $0.integer(Int64.self) }),
            let message = optional("message", \.stringValue)
        else { return nil }
        return ExitRecord(
            version: version, reason: reason, exitCode: exitCode, signal: signal, startedAt: startedAt, endedAt: endedAt,
            peakRssBytes: peakRss, outputBytes: outputBytes, droppedBytes: droppedBytes, message: message)
    }

    /// The attempt outcome this record describes.
    public var outcome: AttemptOutcome {
        AttemptOutcome(
            reason: AttemptReason(rawValue: reason) ?? .lost, exitCode: exitCode, signal: signal,
            startedAt: Date(timeIntervalSince1970: startedAt),
            endedAt: Date(timeIntervalSince1970: endedAt), peakRssBytes: peakRssBytes,
            outputBytes: outputBytes, droppedBytes: droppedBytes, message: message)
    }
}
