import Glibc

/// The shim's command line, exactly as the daemon passes it:
///
///     stint-shim --run-dir DIR --log FILE --output-cap BYTES [--timeout SECONDS]
///                [--kill-grace SECONDS] [--cwd DIR] -- ARGV0 [ARGS...]
///
/// Paths and the command stay as raw pointers into the process's own argv (which lives
/// as long as the process): turning them into Swift strings would "repair" bytes that are
/// not UTF-8, and a job's arguments and file names must reach the kernel unchanged.
struct ShimOptions {
    static let usage =
        "usage: stint-shim --run-dir DIR --log FILE --output-cap BYTES [--timeout SECONDS] "
        + "[--kill-grace SECONDS] [--cwd DIR] -- ARGV0 [ARGS...]"

    /// The default time between SIGTERM and SIGKILL when the tree is terminated.
    static let defaultKillGraceNanos: Int64 = 10 * 1_000_000_000

    /// Directory the daemon created for this job (lock, pid, stop, signal, exit.json).
    var runDirectory: UnsafePointer<CChar>
    /// File that receives the job's output (and the `.tail.N` segments beside it).
    var logPath: UnsafePointer<CChar>
    /// Bytes of output kept at most; 0 means no cap.
    var outputCap: UInt64
    /// Time allowed from start before the tree is terminated; nil means no deadline.
    var timeoutNanos: Int64?
    /// Time between SIGTERM and SIGKILL.
    var killGraceNanos: Int64
    /// Directory to run the command in; nil means the shim's own.
    var workingDirectory: UnsafePointer<CChar>?
    /// The command's NULL-terminated argv: the tail of the shim's argv after `--`.
    var command: UnsafePointer<UnsafeMutablePointer<CChar>?>

    /// The command's argv[0] as text, for messages.
    var commandName: String { String(cString: command[0]!) }

    struct UsageError: Error {
        let problem: String
    }

    /// Parses `argv[1..<argc]`. Nothing is opened or written here, so a usage error leaves no trace.
    static func parse(
        argc: Int, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    ) throws(UsageError) -> ShimOptions {
        var runDirectory: UnsafePointer<CChar>?
        var logPath: UnsafePointer<CChar>?
        var outputCap: UInt64?
        var timeoutNanos: Int64?
        var killGraceNanos: Int64?
        var workingDirectory: UnsafePointer<CChar>?
        var seen: Set<String> = []

        var index = 1
        while index < argc {
            let name = String(cString: argv[index]!)
            if name == "--" {
                let commandStart = index + 1
                guard commandStart < argc else { throw UsageError(problem: "missing command after '--'") }
                guard let runDirectory else { throw UsageError(problem: "missing --run-dir") }
                guard let logPath else { throw UsageError(problem: "missing --log") }
                guard let outputCap else { throw UsageError(problem: "missing --output-cap") }
                return ShimOptions(
                    runDirectory: runDirectory,
                    logPath: logPath,
                    outputCap: outputCap,
                    timeoutNanos: timeoutNanos,
                    killGraceNanos: killGraceNanos ?? defaultKillGraceNanos,
                    workingDirectory: workingDirectory,
                    command: UnsafePointer(argv + commandStart)
                )
            }
            guard ["--run-dir", "--log", "--output-cap", "--timeout", "--kill-grace", "--cwd"].contains(name) else {
                throw UsageError(problem: "unknown argument '\(name)'")
            }
            guard seen.insert(name).inserted else { throw UsageError(problem: "\(name) given twice") }
            guard index + 1 < argc, let rawValue = argv[index + 1] else {
                throw UsageError(problem: "missing value for \(name)")
            }
            let value = UnsafePointer(rawValue)
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self),
                                            count: strlen(value))
            guard !bytes.isEmpty else { throw UsageError(problem: "empty value for \(name)") }

            switch name {
            case "--run-dir":
                runDirectory = value
            case "--log":
                logPath = value
            case "--cwd":
                workingDirectory = value
            case "--output-cap":
                guard let cap = DecimalText.integer(bytes, maximum: UInt64.max) else {
                    throw UsageError(problem: "--output-cap wants a number of bytes, not '\(String(cString: value))'")
                }
                outputCap = cap
            default:  // --timeout, --kill-grace
                guard let nanos = DecimalText.secondsAsNanoseconds(bytes) else {
                    throw UsageError(problem: "\(name) wants decimal seconds, not '\(String(cString: value))'")
                }
                if name == "--timeout" { timeoutNanos = nanos } else { killGraceNanos = nanos }
            }
            index += 2
        }
        throw UsageError(problem: "missing '--' before the command")
    }
}
