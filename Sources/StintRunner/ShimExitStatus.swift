/// How a shim process ended, from its wait status: known only for a shim the daemon started
/// itself (its parent reaps it), not for one it re-attached to after a restart.
public struct ShimExitStatus: Sendable, Hashable {
    /// The raw status from `waitpid`.
    public var raw: Int32

    /// The status `stint-shim` exits with when it could not write exit.json (EX_IOERR).
    public static let cannotRecord: Int32 = 74

    /// Wraps a raw wait status.
    public init(raw: Int32) { self.raw = raw }

    /// The exit code, when the shim exited rather than being killed.
    public var exitCode: Int32? { raw & 0x7f == 0 ? (raw >> 8) & 0xff : nil }

    /// The signal that killed the shim, if one did.
    public var signal: Int32? {
        let number = raw & 0x7f
        return number != 0 && number != 0x7f ? number : nil
    }

    /// Why there is no exit record, for the attempt's message.
    public static func describe(_ status: ShimExitStatus?) -> String {
        if let code = status?.exitCode {
            return code == cannotRecord
                ? "the shim could not write its exit record (it exited with status \(code))"
                : "the shim exited with status \(code) without an exit record"
        }
        if let signal = status?.signal { return "the shim died (no exit record; it got signal \(signal))" }
        return "the shim died (no exit record)"
    }
}
