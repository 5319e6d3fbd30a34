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
    // Non-blocking: if the pipe is ever full, the main loop already has a wake-up pending.
    _ = write(signalPipeWriteEnd, &byte, 1)
    errno = savedErrno
}

/// Turns asynchronous signals into readable bytes, so the main loop can wait for signals,
/// output and timers in one poll(2) and handle each signal in ordinary code.
struct SignalPipe {
    /// The end the main loop polls and reads.
    let readEnd: Int32

    /// Creates the pipe and routes `signals` into it. SIGPIPE is ignored so a write to a
    /// closed pipe shows up as EPIPE rather than killing the shim.
    static func install(_ signals: [Int32]) -> Result<SignalPipe, SystemError> {
        let readEnd: Int32
        switch Posix.makePipe(nonBlockingReadEnd: true, nonBlockingWriteEnd: true) {
        case .success(let ends): (readEnd, signalPipeWriteEnd) = ends
        case .failure(let error): return .failure(error)
        }

        var ignore = sigaction()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        sigemptyset(&ignore.sa_mask)
        sigaction(SIGPIPE, &ignore, nil)

        for signalNumber in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = deliverSignal
            sigemptyset(&action.sa_mask)
            // SA_RESTART keeps file writes and reads going through a signal; poll(2) still
            // returns EINTR, which the loop treats as "look again". SA_NOCLDSTOP because a
            // stopped or continued child is not an event the shim acts on.
            action.sa_flags = SA_RESTART | (signalNumber == SIGCHLD ? SA_NOCLDSTOP : 0)
            sigaction(signalNumber, &action, nil)
        }

        // The daemon may have spawned us with some of these blocked (a blocked mask survives
        // exec); unblock everything so a stop request can never be held back.
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
        return .success(SignalPipe(readEnd: readEnd))
    }

    /// Everything delivered since the last call, oldest first.
    func drain() -> [Int32] {
        var received: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count > 0 {
                received.append(contentsOf: buffer[..<count].map { Int32($0) })
                continue
            }
            if count < 0 && errno == EINTR { continue }
            return received  // EAGAIN: nothing more for now
        }
    }
}
