import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// SIGINT and SIGTERM during a batch: the first asks it to stop after its running units;
/// the second kills the running units and exits 128+N at once.
final class SignalWatch: Sendable {
    private let received = Mutex<Int>(0)
    /// Set by the second signal, before the running units are killed: from then on the
    /// runner records nothing, so a unit it kills can never be saved as done.
    private static let forcing = Mutex(false)

    /// Whether a second signal is ending the process now.
    static var isForcing: Bool { forcing.withLock { $0 } }
    private nonisolated(unsafe) var sources: [DispatchSourceSignal] = []
    private let reporter: (any BatchReporter)?

    init(reporter: (any BatchReporter)?) {
        self.reporter = reporter
        let queue = DispatchQueue(label: "stint.batch.signals")
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in
                guard let self else { return }
                // Signals that arrive together are counted together.
                for _ in 0..<max(1, Int(source.data)) { self.receive(number) }
            }
            source.resume()
            return source
        }
    }

    /// Never returns: a second signal's handler is ending the process (it kills the running
    /// units, reports, then exits 128+N). The runner, which sees its units die first, must
    /// not end the process sooner with another exit code.
    static func waitForForcedExit() async -> Never {
        while true { try? await Task.sleep(for: .seconds(1)) }
    }

    /// Whether a first signal asked the batch to stop.
    var stopping: Bool { received.withLock { $0 > 0 } }

    /// Waits up to `seconds` for a first signal; returns at once when one came.
    func waitForStop(seconds: Double) async {
        let deadline = Date().addingTimeInterval(seconds)
        while !stopping, Date() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
    }

    private func receive(_ number: Int32) {
        let count = received.withLock { count in
            count += 1
            return count
        }
        if count == 1 {
            reporter?.handle(.interrupted(signal: number, running: RunningUnits.count))
        } else if count == 2 {
            Self.forcing.withLock { $0 = true }
            RunningUnits.signalAll(SIGKILL)
            reporter?.handle(.forcedExit(signal: number))
            exit(128 + number)
        }
    }

    /// Stops watching and gives both signals their default action back.
    func cancel() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
