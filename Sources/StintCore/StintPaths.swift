import Foundation

/// Where Stint keeps its files (SPEC: places). Pure computation from the environment.
public struct StintPaths: Sendable, Hashable {
    /// The state folder: `STINT_HOME`, else `${XDG_STATE_HOME:-~/.local/state}/stint`.
    public var home: String
    /// The local API socket: `STINT_SOCKET`, else `$STINT_HOME/stint.sock`.
    public var socket: String

    /// Paths for an explicit home and socket.
    public init(home: String, socket: String? = nil) {
        self.home = home
        self.socket = socket ?? home + "/stint.sock"
    }

    /// Paths from an environment (normally the process's own).
    public init(environment: [String: String]) {
        let home: String
        if let explicit = environment["STINT_HOME"], !explicit.isEmpty {
            home = explicit
        } else if let state = environment["XDG_STATE_HOME"], !state.isEmpty {
            home = state + "/stint"
        } else {
            home = (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/stint"
        }
        let socket = environment["STINT_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        self.init(home: home, socket: socket)
    }

    /// The SQLite store.
    public var database: String { home + "/stint.db" }
    /// The folder of job logs.
    public var logs: String { home + "/logs" }
    /// The folder of per-attempt run folders (lock, pid, exit record).
    public var run: String { home + "/run" }
    /// Where an auto-started daemon writes its own log.
    public var daemonLog: String { home + "/daemon.log" }
    /// The lock that keeps one daemon per state folder.
    public var daemonLock: String { home + "/daemon.lock" }

    /// The run folder of one attempt.
    public func runDirectory(job: Int64, attempt: Int) -> String { "\(run)/\(job).\(attempt)" }
    /// The log file of one attempt.
    public func log(job: Int64, attempt: Int) -> String { "\(logs)/\(job).\(attempt).log" }
}
