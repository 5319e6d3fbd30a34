import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real daemon in a temporary `STINT_HOME`, driven through the real `stint` binary.
final class StintHarness: @unchecked Sendable {
    /// The result of one `stint` invocation.
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        /// The `data` of a JSON envelope on stdout.
        func data<T: Codable & Sendable>(_ type: T.Type) throws -> T {
            let envelope = try StintJSON.decoder().decode(Envelope<T>.self, from: Data(stdout.utf8))
            return try #require(envelope.data, "no data in \(stdout)")
        }

        /// The error of a JSON envelope on stdout.
        func error() throws -> StintError {
            let envelope = try StintJSON.decoder().decode(Envelope<Empty>.self, from: Data(stdout.utf8))
            return try #require(envelope.error, "no error in \(stdout)")
        }
    }

    let home: String
    let binary: String
    /// Where the daemon's log and each invocation's output files go: `home`, unless a test
    /// needs them off the state folder's file system (a full disk, say).
    var scratch: String
    private(set) var daemon: Process?

    /// Creates the folder and, with `start`, a daemon given `--parallel parallel` and `daemonArguments`.
    init(parallel: Int = 2, daemonArguments: [String] = [], start: Bool = true) throws {
        var template = Array("/tmp/stint-e2e-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw StintError(.internal, "mkdtemp failed") }
        home = String(cString: made)
        scratch = home
        binary = try Self.locateBinary()
        if start { try startDaemon(parallel: parallel, arguments: daemonArguments) }
    }

    deinit {
        shutDown()
    }

    static func locateBinary() throws -> String {
        if let explicit = ProcessInfo.processInfo.environment["STINT_BIN"] { return explicit }
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var directory = (executable as NSString).deletingLastPathComponent
        // The test runner lives in BUILD/debug or BUILD/debug/X.xctest/…
        for _ in 0..<4 {
            let candidate = directory + "/stint"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = (directory as NSString).deletingLastPathComponent
        }
        throw StintError(.internal, "cannot find the stint binary near \(executable); build it first (swift build) or set STINT_BIN")
    }

    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["STINT_HOME"] = home
        environment["STINT_NO_AUTOSTART"] = "1"
        environment["NO_COLOR"] = "1"
        environment.removeValue(forKey: "STINT_SOCKET")
        environment.removeValue(forKey: "STINT_SESSION")
        return environment
    }

    /// Starts `stint daemon --parallel parallel ARGUMENTS…` and waits until it answers.
    func startDaemon(parallel: Int, arguments: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["daemon", "--parallel", String(parallel)] + arguments
        process.environment = environment
        let logPath = scratch + "/daemon.log"
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        daemon = process
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if try run("daemon", "status").status == 0 { return }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        throw StintError(.internal, "daemon did not start: \(daemonLog)")
    }

    var daemonLog: String { (try? String(contentsOfFile: scratch + "/daemon.log", encoding: .utf8)) ?? "" }

    /// SIGKILLs the daemon: no chance to clean up anything.
    func killDaemon() {
        guard let daemon else { return }
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
        self.daemon = nil
    }

    /// Runs `stint ARGS…` and collects its output.
    @discardableResult
    func run(_ arguments: String..., stdin: String? = nil, cwd: String? = nil, env: [String: String] = [:]) throws -> Result {
        try run(arguments, stdin: stdin, cwd: cwd, env: env)
    }

    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil, cwd: String? = nil, env: [String: String] = [:]) throws -> Result {
        try launch(arguments, stdin: stdin, cwd: cwd, env: env).collect()
    }

    /// Starts every invocation before waiting for any, so they really run at the same
    /// time (a thread pool on a 2-core machine would run them two by two); results in order.
    func runConcurrently(_ invocations: [[String]]) throws -> [Result] {
        let launched = try invocations.map { try launch($0) }
        return try launched.map { try $0.collect() }
    }

    /// A started `stint` invocation whose output goes to scratch files.
    struct Invocation {
        let process: Process
        let scratch: String

        /// Its process id.
        var pid: Int32 { process.processIdentifier }

        /// What it wrote to stdout so far (it may still be running).
        var stdoutSoFar: String {
            String(decoding: FileManager.default.contents(atPath: scratch + ".out") ?? Data(), as: UTF8.self)
        }

        /// What it wrote to stderr so far (it may still be running).
        var stderrSoFar: String {
            String(decoding: FileManager.default.contents(atPath: scratch + ".err") ?? Data(), as: UTF8.self)
        }

        /// Waits for the process to exit, reads its output and removes the scratch files.
        func collect() throws -> Result {
            defer { for name in ["out", "err", "in"] { try? FileManager.default.removeItem(atPath: "\(scratch).\(name)") } }
            process.waitUntilExit()
            let outData = FileManager.default.contents(atPath: scratch + ".out") ?? Data()
            let errData = FileManager.default.contents(atPath: scratch + ".err") ?? Data()
            return Result(
                status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                stderr: String(decoding: errData, as: UTF8.self))
        }
    }

    /// Starts `stint ARGS…` in the background; `collect()` the result later (or signal its `pid` first).
    func start(_ arguments: [String], stdin: String? = nil, cwd: String? = nil, env: [String: String] = [:]) throws -> Invocation {
        try launch(arguments, stdin: stdin, cwd: cwd, env: env)
    }

    private func launch(_ arguments: [String], stdin: String? = nil, cwd: String? = nil, env: [String: String] = [:]) throws -> Invocation {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = environment.merging(env) { $1 }
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        // Files, not pipes: tests run in parallel, and a pipe's write end inherited by a
        // process another test spawns at the same moment would keep a read from ending.
        let scratch = self.scratch + "/.run-\(UUID().uuidString)"
        for name in ["out", "err", "in"] { _ = FileManager.default.createFile(atPath: "\(scratch).\(name)", contents: nil) }
        try Data((stdin ?? "").utf8).write(to: URL(fileURLWithPath: scratch + ".in"))
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch + ".out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch + ".err"))
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: scratch + ".in"))
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try process.run()
        try out.close()
        try err.close()
        try input.close()
        return Invocation(process: process, scratch: scratch)
    }

    /// Adds a job and returns its id.
    func add(_ arguments: String...) throws -> Int64 {
        try add(arguments)
    }

    /// Adds a job and returns its id.
    func add(_ arguments: [String]) throws -> Int64 {
        let result = try run(["add", "-p"] + arguments)
        guard result.status == 0, let id = Int64(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw StintError(.internal, "add failed (\(result.status)): \(result.stdout) \(result.stderr)")
        }
        return id
    }

    /// The job as `stint show -o json` reports it.
    func show(_ id: Int64) throws -> JobView {
        try run("show", String(id), "-o", "json").data(JobView.self)
    }

    /// Every queue as `stint queue ls -o json` reports it.
    func queues() throws -> [QueueView] {
        try run("queue", "ls", "-o", "json").data([QueueView].self)
    }

    /// One queue as `stint queue ls -o json` reports it.
    func queue(_ name: String) throws -> QueueView {
        try #require(try queues().first { $0.name == name }, "no queue \(name)")
    }

    /// Events as `stint events -o json` reports them, oldest first.
    func events(job: Int64? = nil, queue: String? = nil) throws -> [EventView] {
        var arguments = ["events", "-o", "json"]
        if let job { arguments += ["--job", String(job)] }
        if let queue { arguments += ["--queue", queue] }
        return try run(arguments).data([EventView].self)
    }

    /// Polls `condition` every 20 ms for up to `seconds`.
    func eventually(_ seconds: Double = 10, _ condition: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }

    /// Polls `condition` every 20 ms for `seconds`; false as soon as it does not hold.
    /// For what must *not* happen, such as a paused queue starting a job.
    func holds(for seconds: Double, _ condition: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard try condition() else { return false }
            usleep(20_000)
        }
        return try condition()
    }

    /// Pids of live processes whose environment carries this harness's `STINT_HOME`,
    /// optionally only those of one job.
    func processes(job: Int64? = nil) -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name -> Int32? in
            guard let pid = Int32(name), pid != getpid(),
                let environ = FileManager.default.contents(atPath: "/proc/\(name)/environ")
            else { return nil }
            if let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")"),
                stat[stat.index(close, offsetBy: 2)] == "Z"
            {
                return nil  // a zombie is dead, just not yet reaped
            }
            let variables = Set(environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
            guard variables.contains("STINT_HOME=\(home)") else { return nil }
            if let job { return variables.contains("STINT_JOB_ID=\(job)") ? pid : nil }
            return pid
        }
    }

    /// Stops the daemon, kills anything left of this harness's jobs, removes the folder.
    func shutDown() {
        if let daemon, daemon.isRunning {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        daemon = nil
        for pid in processes() { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: home)
    }
}
