import Glibc

/// Write end of the self-pipe. Set once before any handler is installed and only read
/// afterwards (by `deliverSignal`), so the unsynchronised access is safe.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// The signal handler. It must be async-signal-safe, so it does nothing but write(2) the
/// signal number into the pipe; errno is restored because the handler may interrupt code
/// between a failing call and its errno check.
private func deliverSignal(_ signalNumber: Int32) {
    let savedErrno = errno
    var byte = UInt8(truncatingIfNeeded: signalNumber)
    // Non-blocking: if the pipe were ever full, the main loop would already have a wake-up pending.
    _ = write(signalPipeWriteEnd, &byte, 1)
    errno = savedErrno
}

/// Turns asynchronous signals into readable bytes, so the main loop can wait for signals,
/// output and timers in one poll(2) and handle each signal in ordinary code.
struct SignalPipe {
    /// The set of signals received since the last `drain()`.
    struct Received {
        fileprivate var bits: UInt64 = 0

        func contains(_ signal: Int32) -> Bool { bits & (1 << UInt64(signal)) != 0 }
    }

    /// The end the main loop polls and reads.
    let readEnd: Int32

    /// Creates the pipe and routes SIGCHLD, SIGTERM, SIGINT, SIGHUP and SIGUSR1 into it.
    /// SIGPIPE is ignored so that a write to a closed pipe shows up as EPIPE rather than
    /// killing the shim.
    static func install() -> Result<SignalPipe, SystemError> {
        let readEnd: Int32
        switch Posix.makePipe(nonBlockingReadEnd: true, nonBlockingWriteEnd: true) {
        case .success(let ends): (readEnd, signalPipeWriteEnd) = ends
        case .failure(let error): return .failure(error)
        }

        var ignore = sigaction()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        sigemptyset(&ignore.sa_mask)
        sigaction(SIGPIPE, &ignore, nil)

        func route(_ signalNumber: Int32, extraFlags: Int32 = 0) {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = deliverSignal
            sigemptyset(&action.sa_mask)
            // SA_RESTART keeps file reads and writes going through a signal; poll(2) still
            // returns EINTR, which the loop treats as "look again".
            action.sa_flags = SA_RESTART | extraFlags
            sigaction(signalNumber, &action, nil)
        }
        // SA_NOCLDSTOP: a child being stopped or continued is not an event the shim acts on.
        route(SIGCHLD, extraFlags: SA_NOCLDSTOP)
        route(SIGTERM)
        route(SIGINT)
        route(SIGHUP)
        route(SIGUSR1)

        // The daemon may have spawned the shim with some of these blocked (a blocked mask
        // survives exec); unblock everything so a stop request can never be held back.
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
        return .success(SignalPipe(readEnd: readEnd))
    }

    /// Every signal delivered since the last call. Repeats collapse into one, as the kernel
    /// itself does for pending signals, and the handling of each kind is idempotent.
    func drain() -> Received {
        var received = Received()
        var chunk: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &chunk) { chunk in
            while true {
                let count = read(readEnd, chunk.baseAddress, chunk.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return }  // EAGAIN: nothing more for now
                for byte in chunk[..<count] where byte < 64 { received.bits |= 1 << UInt64(byte) }
            }
        }
        return received
    }
}
