import ArgumentParser
import Foundation
import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// `stint critical -- CMD ARGS…`: runs an irreversible step of a job so that a stop cannot cut
/// it. The protocol with the shim lives in the run folder's `critical` file: every step holds
/// it with a shared flock while its command runs, and the shim takes it exclusively before it
/// terminates the tree, so a stop or timeout waits until no step is running.
struct Critical: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inside a job, run an irreversible step: a stop that arrives during it waits until it has ended.",
        discussion: """
            stint critical -- CMD ARGS…

            Runs CMD and waits for it. A `stint stop` or a --timeout that arrives while CMD \
            runs is deferred until CMD has ended (and every other critical step of the job \
            with it), then carried out as usual: SIGTERM to the job's tree, SIGKILL after the \
            grace, which starts only then. Meanwhile `stint show` says that a stop is \
            deferred. Several critical steps may run at once. `stint kill` is never deferred.

            While CMD runs, `stint critical` itself ignores SIGTERM, SIGINT and SIGHUP; CMD \
            gets the caller's dispositions. When a stop was deferred, `stint critical` does \
            not return once CMD has ended but waits (up to 2 s) to be terminated with the rest \
            of the job, so that the caller does not go on to its next command. A critical \
            step that starts once the termination has begun never runs its command.

            Outside a job (STINT_RUN_DIR unset or empty) CMD simply runs, with nothing to \
            defer. No daemon is contacted either way.

            Exits with CMD's exit code, 128+N when CMD was killed by signal N, and 127 when \
            CMD could not be started (or, inside a job, the lock could not be taken).
            """)

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command and its arguments, after `--`.", valueName: "command"))
    var command: [String] = []

    /// The signals `stint critical` ignores while the step runs, so that it cannot be cut.
    private static let shieldedSignals = [SIGTERM, SIGINT, SIGHUP]
    /// The exit status when CMD never ran (as a shell reports a command it cannot run).
    private static let cannotRunStatus: Int32 = 127
    /// How long an ended step waits for a deferred stop to terminate it (normally about 50 ms:
    /// the shim's retry interval). Bounded, because a nested or parallel step may still hold
    /// the lock, and then the caller has to be allowed to go on.
    private static let deferredStopWaitMicroseconds: UInt32 = 2_000_000
    private static let deferredStopPollMicroseconds: UInt32 = 5_000

    func run() throws {
        guard !command.isEmpty else {
            throw StintError(.usage, "no command given", hint: "usage: stint critical -- CMD ARGS…")
        }
        let runDirectory = getenv("STINT_RUN_DIR").map { String(cString: $0) } ?? ""
        // The lock is waited for with the usual dispositions: a step that starts while the tree
        // is being terminated must die with it rather than hang on until SIGKILL.
        let lock = runDirectory.isEmpty ? nil : try Self.holdSharedLock(RunFolder.path(runDirectory, RunFolder.critical))

        // A caller that ignores SIGCHLD would have the step reaped behind waitpid's back.
        signal(SIGCHLD, SIG_DFL)
        var ignore = sigaction()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        sigemptyset(&ignore.sa_mask)
        var previous = Array(repeating: sigaction(), count: Self.shieldedSignals.count)
        var childDefaults = sigset_t()
        sigemptyset(&childDefaults)
        for (index, signal) in Self.shieldedSignals.enumerated() {
            sigaction(signal, &ignore, &previous[index])
            // exec keeps an ignored signal ignored: give CMD back what the caller had.
            if !Self.isIgnored(previous[index]) { sigaddset(&childDefaults, signal) }
        }
        func restoreSignals() {
            for (index, signal) in Self.shieldedSignals.enumerated() { sigaction(signal, &previous[index], nil) }
        }

        let status = Self.spawn(command, defaults: &childDefaults).map(Self.waitForExit) ?? Self.cannotRunStatus

        restoreSignals()
        if let lock {
            flock(lock, LOCK_UN)
            Self.awaitDeferredStop(RunFolder.path(runDirectory, RunFolder.stopDeferred))
        }
        throw CLIExit(status: status)
    }

    /// Opens (creating) the run folder's `critical` file and takes the shared lock, waiting
    /// while the shim holds it exclusively. The descriptor stays open until exit, which
    /// releases the lock even if this process dies; it is close-on-exec so that nothing
    /// CMD leaves behind can keep holding it.
    private static func holdSharedLock(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0o600)
        var failure = fd < 0 ? errno : 0
        while failure == 0, flock(fd, LOCK_SH) != 0 {
            if errno != EINTR { failure = errno }
        }
        guard failure != 0 else { return fd }
        Output.err("stint: cannot take the critical-section lock \(path): \(String(cString: strerror(failure)))\n")
        throw CLIExit(status: cannotRunStatus)
    }

    /// posix_spawnp in this process group (so the shim finds and signals CMD as part of the
    /// job), with this process's descriptors and environment, and `defaults` reset to SIG_DFL.
    /// Returns the pid, or nil after saying on stderr why CMD did not start.
    private static func spawn(_ command: [String], defaults: inout sigset_t) -> pid_t? {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, command[0], nil, &attributes, argv, environ)
        guard status == 0 else {
            Output.err("stint: cannot run '\(command[0])': \(String(cString: strerror(status)))\n")
            return nil
        }
        return pid
    }

    /// Waits for `pid` and maps its status as a shell does: the exit code, or 128+N after
    /// signal N. (WIFEXITED and friends are macros Swift does not import.)
    private static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 1 }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// After the step: if the shim deferred a stop meanwhile, stay until it terminates the
    /// tree (it removes `stop-deferred` just after the SIGTERM, which ends this process), so
    /// that the caller cannot start its next command in between.
    private static func awaitDeferredStop(_ marker: String) {
        var waited: UInt32 = 0
        while access(marker, F_OK) == 0, waited < deferredStopWaitMicroseconds {
            usleep(deferredStopPollMicroseconds)
            waited += deferredStopPollMicroseconds
        }
    }

    private static func isIgnored(_ action: sigaction) -> Bool {
        unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }
}
