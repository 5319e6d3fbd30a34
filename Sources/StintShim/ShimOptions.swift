import Glibc

/// The shim's command line, exactly as the daemon passes it:
///
///     stint-shim --run-dir DIR --log FILE --output-cap BYTES [--timeout SECONDS]
///                [--kill-grace SECONDS] [--cwd DIR] [--umask MASK] -- ARGV0 [ARGS...]
///
/// Options come in any order before `--`, each at most once, each with a non-empty value.
/// BYTES is a decimal integer (0: no cap); SECONDS is decimal, like `10` or `0.5`; MASK is
/// the file mode creation mask the command starts with, as a decimal integer (18 for 022).
///
/// Paths and the command stay as pointers into the process's own argv, which lives as long
/// as the process: they reach the kernel byte for byte, whatever their encoding.
struct ShimOptions {
    static let usage: StaticString =
        "usage: stint-shim --run-dir DIR --log FILE --output-cap BYTES [--timeout SECONDS] [--kill-grace SECONDS] [--cwd DIR] [--umask MASK] -- ARGV0 [ARGS...]"

    /// The default time between SIGTERM and SIGKILL when the tree is terminated.
    static let defaultKillGraceNanos: Int64 = 10 * 1_000_000_000

    /// Directory the daemon created for this job (lock, pid, stop, signal, exit.json).
    var runDirectory: UnsafePointer<CChar>
    /// File that receives the job's output (and the `.tail.N` segments beside it).
    var logPath: UnsafePointer<CChar>
    /// Bytes of output kept at most; 0 means no cap.
    var outputCap: UInt64
    /// Time allowed from the start before the tree is terminated; nil means no deadline.
    var timeoutNanos: Int64?
    /// Time between SIGTERM and SIGKILL.
    var killGraceNanos: Int64
    /// Directory to run the command in; nil means the shim's own.
    var workingDirectory: UnsafePointer<CChar>?
    /// The umask the command starts with; nil means the shim's own. The daemon runs with
    /// 077 so that the state folder stays private, and hands the command the one it was
    /// started with.
    var commandUmask: mode_t?
    /// The command's NULL-terminated argv: the tail of the shim's own argv after `--`.
    var command: UnsafePointer<UnsafeMutablePointer<CChar>?>

    /// What was wrong with the command line. It names the offending argument by its index
    /// in argv, which keeps the error Sendable (as Error requires) without copying it.
    struct UsageError: Error {
        let problem: StaticString
        var option: StaticString? = nil
        var argumentIndex: Int? = nil

        /// "stint-shim: PROBLEM [OPTION] ['ARGUMENT']; usage: ..." on one line.
        func describe(argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, into line: inout TextBuffer) {
            line.append("stint-shim: ")
            line.append(problem)
            if let option {
                line.append(" ")
                line.append(option)
            }
            if let argumentIndex {
                line.append(" '")
                line.append(cString: argv[argumentIndex]!)
                line.append("'")
            }
            line.append("; ")
            line.append(ShimOptions.usage)
        }
    }

    /// Parses `argv[1..<argc]`. Nothing is opened or written here, so a usage error leaves
    /// no trace.
    static func parse(
        argc: Int, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    ) throws(UsageError) -> ShimOptions {
        var runDirectory: UnsafePointer<CChar>?
        var logPath: UnsafePointer<CChar>?
        var outputCap: UInt64?
        var timeoutNanos: Int64?
        var killGraceNanos: Int64?
        var workingDirectory: UnsafePointer<CChar>?
        var commandUmask: mode_t?

        var index = 1
        while index < argc {
            let argument = UnsafePointer(argv[index]!)
            func matches(_ option: StaticString) -> Bool { strcmp(argument, option.cString) == 0 }

            if matches("--") {
                let commandStart = index + 1
                guard commandStart < argc else { throw UsageError(problem: "missing command after '--'") }
                guard let runDirectory else { throw UsageError(problem: "missing option", option: "--run-dir") }
                guard let logPath else { throw UsageError(problem: "missing option", option: "--log") }
                guard let outputCap else { throw UsageError(problem: "missing option", option: "--output-cap") }
                return ShimOptions(
                    runDirectory: runDirectory,
                    logPath: logPath,
                    outputCap: outputCap,
                    timeoutNanos: timeoutNanos,
                    killGraceNanos: killGraceNanos ?? defaultKillGraceNanos,
                    workingDirectory: workingDirectory,
                    commandUmask: commandUmask,
                    command: UnsafePointer(argv + commandStart)
                )
            }

            // Every option takes a value.
            let valueIndex = index + 1
            index += 2
            func value(of option: StaticString, alreadySet: Bool) throws(UsageError) -> UnsafePointer<CChar> {
                guard !alreadySet else { throw UsageError(problem: "option given twice:", option: option) }
                guard valueIndex < argc else { throw UsageError(problem: "missing value for", option: option) }
                let value = UnsafePointer(argv[valueIndex]!)
                guard value.pointee != 0 else { throw UsageError(problem: "empty value for", option: option) }
                return value
            }
            func seconds(of option: StaticString, alreadySet: Bool) throws(UsageError) -> Int64 {
                let text = try value(of: option, alreadySet: alreadySet)
                guard let nanos = DecimalText.secondsAsNanoseconds(UnsafeRawBufferPointer(start: text, count: strlen(text)))
                else {
                    throw UsageError(problem: "not decimal seconds:", option: option, argumentIndex: valueIndex)
                }
                return nanos
            }

            if matches("--run-dir") {
                runDirectory = try value(of: "--run-dir", alreadySet: runDirectory != nil)
            } else if matches("--log") {
                logPath = try value(of: "--log", alreadySet: logPath != nil)
            } else if matches("--cwd") {
                workingDirectory = try value(of: "--cwd", alreadySet: workingDirectory != nil)
            } else if matches("--output-cap") {
                let text = try value(of: "--output-cap", alreadySet: outputCap != nil)
                outputCap = DecimalText.integer(UnsafeRawBufferPointer(start: text, count: strlen(text)), maximum: .max)
                if outputCap == nil {
                    throw UsageError(problem: "not a number of bytes:", option: "--output-cap", argumentIndex: valueIndex)
                }
            } else if matches("--umask") {
                let text = try value(of: "--umask", alreadySet: commandUmask != nil)
                guard let mask = DecimalText.integer(UnsafeRawBufferPointer(start: text, count: strlen(text)), maximum: 0o777)
                else {
                    throw UsageError(problem: "not a umask (decimal, at most 511):", option: "--umask", argumentIndex: valueIndex)
                }
                commandUmask = mode_t(mask)
            } else if matches("--timeout") {
                timeoutNanos = try seconds(of: "--timeout", alreadySet: timeoutNanos != nil)
            } else if matches("--kill-grace") {
                killGraceNanos = try seconds(of: "--kill-grace", alreadySet: killGraceNanos != nil)
            } else {
                throw UsageError(problem: "unknown argument", argumentIndex: valueIndex - 1)
            }
        }
        throw UsageError(problem: "missing '--' before the command")
    }
}
