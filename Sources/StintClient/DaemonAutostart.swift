import Foundation
import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// Whether something accepts connections on a unix socket.
enum DaemonProbe {
    /// Whether a daemon holds the lock file at `path`.
    static func isLocked(_ path: String) -> Bool {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return errno == EWOULDBLOCK }
        flock(fd, LOCK_UN)
        return false
    }

    static func answers(_ socketPath: String) -> Bool {
        guard let fd = try? HTTPConnection(target: .unix(socketPath)).connect() else { return false }
        close(fd)
        return true
    }
}

/// Starts `EXECUTABLE daemon` detached (own session, output to `daemon.log`) and waits
/// up to 10 s for it to listen. Two CLIs racing both start one; the daemon lock lets
/// exactly one survive, and both CLIs then talk to it.
struct DaemonAutostart {
    let paths: StintPaths
    let executable: String

    func start() throws {
        try FileManager.default.createDirectory(
            atPath: paths.home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let log = open(paths.daemonLog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard log >= 0 else {
            throw StintError(.unavailable, "cannot open \(paths.daemonLog): \(String(cString: strerror(errno)))")
        }
        defer { close(log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, log, 1)
        posix_spawn_file_actions_adddup2(&actions, log, 2)
        // The daemon outlives this process: it must not keep our caller's pipes open.
        SpawnActions.closeDescriptors(from: 3, in: &actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new session: the daemon must not die with the caller's terminal.
        posix_spawnattr_setflags(&attributes, Int16(SpawnActions.setSessionFlag))
        let arguments = [executable, "daemon"]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, &argv, environ)
        guard status == 0 else {
            throw StintError(.unavailable, "cannot start the daemon (\(executable)): \(String(cString: strerror(status)))")
        }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if DaemonProbe.answers(paths.socket) { return }
            var exitStatus: Int32 = 0
            if waitpid(pid, &exitStatus, WNOHANG) == pid, !DaemonProbe.answers(paths.socket) {
                // It exited: another daemon won the lock (then the socket answers soon) or it failed.
                usleep(20_000)
                if DaemonProbe.answers(paths.socket) { return }
                throw StintError(.unavailable, "the daemon failed to start", hint: "see \(paths.daemonLog)")
            }
            usleep(2_000)
        }
        // Still starting: most often its store cannot be reached yet (it keeps trying); its
        // last line says why, with the store's URL (password masked).
        let reason = Self.lastLine(of: paths.daemonLog).map { ": \($0)" } ?? ""
        throw StintError(
            .unavailable, "the daemon did not start listening within 10 s\(reason)", hint: "see \(paths.daemonLog)")
    }

    /// The last line of the file at `path` (its last 4 KiB read), or `nil`.
    static func lastLine(of path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 4096 ? size - 4096 : 0)
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n").last.map { String($0).trimmingCharacters(in: .whitespaces) }
    }
}
