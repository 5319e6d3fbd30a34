import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Tells the daemon the moment a shim exits, pushed by the kernel through a pidfd
/// (no polling), for shims the daemon started and for shims it re-attached to after
/// a restart alike.
public final class ShimWatcher: Sendable {
    private let queue = DispatchQueue(label: "stint.shim-watcher")

    /// Creates a watcher.
    public init() {}

    /// Calls `onExit` once when process `pid` has exited (at once if it already has), with
    /// its exit status when it was the daemon's own child (`nil` otherwise).
    ///
    /// Reaps the process when it is the daemon's own child, so no zombie is left.
    public func watch(pid: Int32, onExit: @escaping @Sendable (ShimExitStatus?) -> Void) {
        guard let pidfdOpen else { return poll(pid: pid, onExit: onExit) }
        let fd = pidfdOpen(pid, 0)
        guard fd >= 0 else {
            // ESRCH: already gone (and reaped by someone). Report it now.
            if errno == ESRCH { queue.async { onExit(nil) } } else { poll(pid: pid, onExit: onExit) }
            return
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [source] in
            source.cancel()
            onExit(Self.reap(pid))
        }
        source.setCancelHandler { close(fd) }
        source.resume()
    }

    /// The fallback for kernels without pidfds: check every 50 ms.
    private func poll(pid: Int32, onExit: @escaping @Sendable (ShimExitStatus?) -> Void) {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now(), repeating: .milliseconds(50))
        timer.setEventHandler { [timer] in
            if let status = Self.reap(pid) {
                timer.cancel()
                onExit(status)
                return
            }
            guard kill(pid, 0) == -1, errno == ESRCH else { return }
            timer.cancel()
            onExit(nil)
        }
        timer.resume()
    }

    /// The exit status of `pid` if it is an exited child of the daemon (reaping it).
    private static func reap(_ pid: Int32) -> ShimExitStatus? {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == pid ? ShimExitStatus(raw: status) : nil
    }
}

/// glibc's `pidfd_open` (2.36+, Linux 5.3+), looked up at run time because Swift's
/// Glibc module does not import `<sys/pidfd.h>`.
private let pidfdOpen: (@convention(c) (pid_t, UInt32) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pidfd_open") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (pid_t, UInt32) -> Int32).self)
}()
