public import Foundation

/// How an attempt ended, as recorded by the shim (or decided by the daemon when the
/// shim left no record).
public struct AttemptOutcome: Sendable, Hashable, Codable {
    /// Why the attempt ended.
    public var reason: AttemptReason
    /// The command's exit status when it exited normally.
    public var exitCode: Int?
    /// The signal that killed the command, when one did.
    public var signal: Int?
    /// When the command started, if known.
    public var startedAt: Date?
    /// When the whole process tree had exited.
    public var endedAt: Date
    /// Peak resident memory of the largest process of the tree, in bytes, where known.
    public var peakRssBytes: Int64?
    /// Bytes the command wrote to stdout and stderr together.
    public var outputBytes: Int64?
    /// Bytes the output cap dropped from the middle of the log.
    public var droppedBytes: Int64?
    /// A human-readable detail, such as a launch error.
    public var message: String?

    /// Creates an outcome.
    public init(
        reason: AttemptReason, exitCode: Int? = nil, signal: Int? = nil, startedAt: Date? = nil,
        endedAt: Date, peakRssBytes: Int64? = nil, outputBytes: Int64? = nil,
        droppedBytes: Int64? = nil, message: String? = nil
    ) {
        self.reason = reason
        self.exitCode = exitCode
        self.signal = signal
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.peakRssBytes = peakRssBytes
        self.outputBytes = outputBytes
        self.droppedBytes = droppedBytes
        self.message = message
    }

    /// The job event this outcome causes.
    public var event: JobEvent {
        switch reason {
        case .cancelled: .cancel
        case .exited where exitCode == 0: .succeed
        default: .fail
        }
    }
}
