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
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ExitRecord.self, from: data)
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
