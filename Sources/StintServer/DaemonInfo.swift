import Foundation
import ServiceLifecycle
import StintCore
import StintEngine
import Synchronization

/// What the API knows about the daemon itself, and the switch that stops it.
final class DaemonInfo: Sendable {
    let paths: StintPaths
    let parallel: Int
    let startedAt = Date()
    private let stopping = Atomic<Bool>(false)
    private let group = Mutex<ServiceGroup?>(nil)
    private let listenURL = Mutex<String?>(nil)

    init(paths: StintPaths, parallel: Int) {
        self.paths = paths
        self.parallel = parallel
    }

    /// Whether a graceful shutdown has begun; long requests end early then.
    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    func attach(_ serviceGroup: ServiceGroup) {
        group.withLock { $0 = serviceGroup }
    }

    /// Records the TCP listener's address once it is bound (the port may have been 0).
    func listening(at address: HostPort) {
        listenURL.withLock { $0 = "http://\(address)" }
    }

    func markStopping() {
        stopping.store(true, ordering: .relaxed)
    }

    /// Begins a graceful shutdown a moment from now, so the current response is sent first.
    func requestShutdown() async {
        let serviceGroup = group.withLock { $0 }
        // Unstructured: the request that asked must finish before the server stops
        // taking requests; nobody awaits this task.
        Task {
            try? await Task.sleep(for: .milliseconds(20))
            await serviceGroup?.triggerGracefulShutdown()
        }
    }

    /// The daemon's health. A client scoped to a session gets no paths (state folder,
    /// socket, store) and counts of its own session's jobs only.
    func status(engine: Engine, scope: String?) async throws -> DaemonStatus {
        let scoped = scope != nil
        return DaemonStatus(
            pid: getpid(), version: StintVersion.current, store: scoped ? nil : engine.storeLocation,
            home: scoped ? nil : paths.home, socket: scoped ? nil : paths.socket,
            uptime: Date().timeIntervalSince(startedAt), parallel: parallel,
            counts: try await engine.counts(scope: scope), listen: listenURL.withLock { $0 })
    }
}
