import CStintSpawn
public import Foundation
import StintCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How one unit ended.
public struct UnitOutcome: Sendable, Hashable {
    /// Whether the unit succeeded.
    public var ok: Bool
    /// The exit code of a unit that exited.
    public var exitCode: Int32?
    /// The signal that killed a unit.
    public var signal: Int32?
    /// Why it failed, when there is more to say than the exit code (a launch error, a timeout, a thrown error).
    public var message: String?
    /// The last lines of its output, when it has any.
    public var outputTail: String?
    /// Whether its time limit ended it (its `signal` is then the one the limit sent).
    public var timedOut: Bool

    /// Creates an outcome.
    public init(
        ok: Bool, exitCode: Int32? = nil, signal: Int32? = nil, message: String? = nil, outputTail: String? = nil,
        timedOut: Bool = false
    ) {
        self.ok = ok
        self.exitCode = exitCode
        self.signal = signal
        self.message = message
        self.outputTail = outputTail
        self.timedOut = timedOut
    }

    /// A success.
    public static let success = UnitOutcome(ok: true)

    /// A failure saying why.
    public static func failure(_ message: String) -> UnitOutcome { UnitOutcome(ok: false, message: message) }
}

/// Runs a command once per unit: `{}` in any argument is replaced by the unit's value (or
/// the value is appended when no argument has `{}`).
///
/// Each unit leads its own process group, so a Ctrl-C at the terminal reaches the batch and
/// not its running units (which the batch lets finish); stdin is `/dev/null`, and stdout and
/// stderr are read into a bounded tail. If the batch process dies, even by SIGKILL, the
/// unit gets SIGKILL (`PR_SET_PDEATHSIG`), and a guard process kills the process groups of
/// the units that were running, so what they started dies too.
public struct UnitCommand: Sendable {
    /// The command with `{}` where the unit goes.
    public var template: [String]
    /// The environment of every unit, to which `STINT_BATCH_UNIT` and `STINT_BATCH_POSITION` are added.
    public var environment: [String: String]
    /// Seconds a unit may run before it gets SIGTERM (and SIGKILL 10 s later); `nil`: no limit.
    public var timeout: Double?
    /// The executable, looked up on `$PATH` once when the command's name has no `{}`.
    private let resolved: String?

    /// Creates a command.
    public init(_ template: [String], environment: [String: String] = ProcessInfo.processInfo.environment, timeout: Double? = nil) {
        self.template = template
        self.environment = environment
        self.timeout = timeout
        resolved = template.first.flatMap { $0.contains("{}") ? nil : UnitProcess.resolve($0, path: environment["PATH"]) }
    }

    /// The arguments for one unit.
    public func arguments(for value: String) -> [String] {
        guard template.contains(where: { $0.contains("{}") }) else { return template + [value] }
        return template.map { $0.replacingOccurrences(of: "{}", with: value) }
    }

    /// The path `name` runs as: itself when it has a slash (and is executable), else the
    /// first executable match on `$PATH`; `nil` when there is none.
    public static func executable(_ name: String, environment: [String: String]) -> String? {
        guard let path = UnitProcess.resolve(name, path: environment["PATH"]) else { return nil }
        return access(path, X_OK) == 0 ? path : nil
    }

    /// Runs the command for `unit` and reports how it ended (never throws: a command that
    /// cannot start is a failed unit).
    public func run(_ unit: BatchUnit) async -> UnitOutcome {
        let arguments = arguments(for: unit.value)
        var unitEnvironment = environment
        unitEnvironment["STINT_BATCH_UNIT"] = unit.value
        unitEnvironment["STINT_BATCH_POSITION"] = String(unit.position)
        let (environment, timeout) = (unitEnvironment, timeout)
        let path = resolved ?? UnitProcess.resolve(arguments[0], path: environment["PATH"])
        return await withCheckedContinuation { continuation in
            // A thread of its own: it forks the unit and waits for it, and PR_SET_PDEATHSIG
            // watches the thread that forked, which must therefore outlive the unit.
            let thread = Thread {
                continuation.resume(returning: UnitProcess.run(arguments, path: path, environment: environment, timeout: timeout))
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}

/// The process groups of running units, so that a forced exit (a second SIGINT) kills them.
public enum RunningUnits {
    private static let groups = Mutex<Set<pid_t>>([])

    /// The guard process that kills running units' groups if the batch dies (see
    /// `stint_guard_start`), started with the first unit.
    private static let guardPipe: Int32 = stint_guard_start()

    static func insert(_ group: pid_t) {
        groups.withLock { _ = $0.insert(group) }
        stint_guard_note(guardPipe, group)
    }

    static func remove(_ group: pid_t) {
        groups.withLock { _ = $0.remove(group) }
        stint_guard_note(guardPipe, -group)
    }

    /// How many units run now.
    public static var count: Int { groups.withLock { $0.count } }

    /// Sends `signal` to every running unit's process group.
    public static func signalAll(_ signal: Int32) {
        for group in groups.withLock({ $0 }) { kill(-group, signal) }
    }
}

/// The blocking part of a unit: spawn, read output, wait. Runs on the unit's own thread.
enum UnitProcess {
    /// Bytes of output kept per unit (the tail).
    static let tailBytes = 16 * 1024
    /// Lines of output reported per unit.
    static let tailLines = 10
    /// Seconds between SIGTERM and SIGKILL when a unit times out.
    static let killGrace: Double = 10

    static func run(_ arguments: [String], path: String?, environment: [String: String], timeout: Double?) -> UnitOutcome {
        guard let path else { return .failure("\(arguments[0]): command not found") }
        var pipeEnds: [Int32] = [0, 0]
        guard stint_pipe_cloexec(&pipeEnds) == 0 else { return .failure("pipe: \(String(cString: strerror(errno)))") }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        defer { close(readEnd) }
        var spawnErrno: Int32 = 0
        let pid = withCStrings(arguments) { argv in
            withCStrings(environment.map { "\($0.key)=\($0.value)" }) { envp in
                stint_spawn_unit(path, argv, envp, writeEnd, &spawnErrno)
            }
        }
        close(writeEnd)
        guard pid > 0 else { return .failure("\(arguments[0]): \(String(cString: strerror(spawnErrno)))") }
        RunningUnits.insert(pid)
        defer { RunningUnits.remove(pid) }

        var tail = OutputTail(capacity: tailBytes)
        let status = wait(pid, output: readEnd, tail: &tail, timeout: timeout)
        let outputTail = tail.lines(tailLines)
        if status.timedOut {
            return UnitOutcome(
                ok: false, signal: status.signal, message: "timed out after \(DurationText.short(timeout ?? 0))",
                outputTail: outputTail, timedOut: true)
        }
        if let signal = status.signal {
            return UnitOutcome(ok: false, signal: signal, message: "killed by signal \(signal)", outputTail: outputTail)
        }
        return UnitOutcome(ok: status.exitCode == 0, exitCode: status.exitCode, outputTail: outputTail)
    }

    struct Status {
        var exitCode: Int32?
        var signal: Int32?
        var timedOut = false
    }

    /// Reads the unit's output until it exits, enforcing `timeout`.
    private static func wait(_ pid: pid_t, output: Int32, tail: inout OutputTail, timeout: Double?) -> Status {
        let pidfd = stint_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        var outputOpen = true
        var buffer = [UInt8](repeating: 0, count: 65536)
        var deadline = timeout.map { Date().addingTimeInterval($0) }
        var timedOut = false
        var exited = false
        var rawStatus: Int32 = 0
        while !exited {
            var fds = [
                pollfd(fd: outputOpen ? output : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0),
            ]
            var wait: Int32 = pidfd >= 0 ? -1 : 100
            if let deadline { wait = min(wait < 0 ? Int32.max : wait, Int32(max(0, deadline.timeIntervalSinceNow * 1000).rounded(.up))) }
            if poll(&fds, 2, wait) < 0, errno != EINTR {
                // Cannot watch any more: wait for the exit itself rather than report a status never read.
                while waitpid(pid, &rawStatus, 0) < 0, errno == EINTR {}
                break
            }
            if outputOpen, fds[0].revents != 0 {
                let count = read(output, &buffer, buffer.count)
                if count > 0 { tail.append(buffer[..<count]) } else if count == 0 || errno != EINTR { outputOpen = false }
            }
            if pidfd < 0 || fds[1].revents != 0 {
                let reaped = waitpid(pid, &rawStatus, pidfd < 0 ? WNOHANG : 0)
                if reaped == pid || (reaped < 0 && errno == ECHILD) { exited = true }
            }
            if !exited, let limit = deadline, limit.timeIntervalSinceNow <= 0 {
                // First SIGTERM to the whole group, then SIGKILL after the grace.
                kill(-pid, timedOut ? SIGKILL : SIGTERM)
                deadline = timedOut ? nil : Date().addingTimeInterval(killGrace)
                timedOut = true
            }
        }
        // Output still buffered in the pipe; a background grandchild may keep writing, so
        // read what is there now and no more.
        if outputOpen {
            _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) | O_NONBLOCK)
            var drained = 0
            while drained < 1 << 20 {
                let count = read(output, &buffer, buffer.count)
                guard count > 0 else { break }
                tail.append(buffer[..<count])
                drained += count
            }
        }
        var status = Status(timedOut: timedOut)
        // WIFEXITED / WTERMSIG, written out: the macros are not visible to Swift.
        if rawStatus & 0x7f == 0 {
            status.exitCode = (rawStatus >> 8) & 0xff
        } else {
            status.signal = rawStatus & 0x7f
        }
        return status
    }

    /// The executable for `name`: itself when it has a slash, else the first match on `path`.
    static func resolve(_ name: String, path: String?) -> String? {
        if name.contains("/") { return name }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            var info = stat()
            if access(candidate, X_OK) == 0, stat(candidate, &info) == 0, info.st_mode & S_IFMT != S_IFDIR {
                return candidate
            }
        }
        return nil
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// The last bytes of a unit's output.
struct OutputTail {
    let capacity: Int
    private var bytes: [UInt8] = []

    init(capacity: Int) { self.capacity = capacity }

    mutating func append(_ chunk: ArraySlice<UInt8>) {
        bytes.append(contentsOf: chunk)
        if bytes.count > capacity * 2 { bytes.removeFirst(bytes.count - capacity) }
    }

    /// The last `count` non-empty lines, each at most 300 bytes; `nil` when there was no output.
    func lines(_ count: Int) -> String? {
        let text = String(decoding: bytes.suffix(capacity), as: UTF8.self)
        let lines = text.split(whereSeparator: \.isNewline).suffix(count).map { line in
            line.utf8.count > 300 ? String(decoding: line.utf8.prefix(300), as: UTF8.self) + "…" : String(line)
        }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }
}
