public import Foundation
import Synchronization

/// Where every time-based rule of Stint takes "now" from, and every wait its end, so
/// tests can move time by hand.
public protocol StintClock: Sendable {
    /// The current time.
    func now() -> Date

    /// Suspends until ``now()`` has reached `deadline`; returns at once when it has already.
    ///
    /// Throws `CancellationError` when the calling task is cancelled first: a sleeper
    /// that is cancelled returns at once, not at its deadline.
    func sleep(until deadline: Date) async throws

    /// Suspends for `seconds` (see ``sleep(until:)``). By default, until ``now()`` plus `seconds`.
    func sleep(for seconds: Double) async throws
}

extension StintClock {
    /// Suspends until ``now()`` plus `seconds`.
    public func sleep(for seconds: Double) async throws {
        try await sleep(until: now().addingTimeInterval(seconds))
    }
}

/// The wall clock.
public struct SystemClock: StintClock {
    /// Creates the wall clock.
    public init() {}
    /// `Date()`.
    public func now() -> Date { Date() }

    /// Sleeps at most ``Limits/maxSleep`` at a time and looks at the wall clock again after
    /// each: a far-off deadline (even one 10^20 s ahead, which would trap `Task.sleep`) is
    /// harmless, and a wall clock set forward or back is followed.
    public func sleep(until deadline: Date) async throws {
        try await Self.sleep(until: deadline, on: self)
    }

    /// Sleeps until `clock` reaches `deadline`, at most ``Limits/maxSleep`` at a time, looking
    /// at `clock` again after each step.
    static func sleep(until deadline: Date, on clock: some StintClock) async throws {
        while true {
            let left = deadline.timeIntervalSince(clock.now())
            guard left > 0 else { return }
            try await Task.sleep(for: .seconds(Limits.sleepable(left)))
        }
    }

    /// Sleeps `seconds` of elapsed time, a day at a time: a duration (a timeout, a backoff)
    /// is not stretched or cut by a change of the wall clock.
    public func sleep(for seconds: Double) async throws {
        var left = seconds.isNaN ? 0 : seconds
        while left > 0 {
            let step = Limits.sleepable(left)
            try await Task.sleep(for: .seconds(step))
            left -= step
        }
    }
}

/// A clock that moves only when told to: for tests of time-based rules without sleeps.
///
/// Its sleepers wake when ``advance(_:)`` moves it to or past their deadline, so code that
/// waits on time runs in a test as fast as the test moves the clock.
public final class ManualClock: StintClock {
    private struct Sleeper {
        var deadline: Date
        /// `nil` until the sleeping task has suspended.
        var continuation: CheckedContinuation<Void, any Error>?
        /// Set when the task was cancelled before it suspended.
        var cancelled = false
    }

    private struct State {
        var now: Date
        var nextID = 0
        var sleepers: [Int: Sleeper] = [:]
    }

    private let state: Mutex<State>

    /// Creates a clock showing `start`.
    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        state = Mutex(State(now: start))
    }

    /// The time it was started at, plus every ``advance(_:)`` so far.
    public func now() -> Date { state.withLock { $0.now } }

    /// Moves the clock forward by `seconds` and wakes every sleeper whose deadline it reached.
    public func advance(_ seconds: Double) {
        let due = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.now = state.now.addingTimeInterval(seconds)
            let now = state.now
            let ids = state.sleepers.filter { $0.value.deadline <= now && $0.value.continuation != nil }.map(\.key)
            return ids.compactMap { state.sleepers.removeValue(forKey: $0)?.continuation }
        }
        // Resumed outside the lock: a woken task may call the clock again at once.
        for continuation in due { continuation.resume() }
    }

    /// The number of tasks asleep on this clock now, for tests that must know a sleeper
    /// has suspended before they move the clock.
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    /// Suspends until ``advance(_:)`` moves the clock to `deadline` or past it (at once if it
    /// is there already), or until the caller is cancelled (throws `CancellationError`).
    public func sleep(until deadline: Date) async throws {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            state.sleepers[state.nextID] = Sleeper(deadline: deadline)
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    guard let sleeper = state.sleepers[id] else { return .success(()) }
                    if sleeper.cancelled || Task.isCancelled {
                        state.sleepers[id] = nil
                        return .failure(CancellationError())
                    }
                    if state.now >= deadline {
                        state.sleepers[id] = nil
                        return .success(())
                    }
                    state.sleepers[id]?.continuation = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let sleeper = state.sleepers[id] else { return nil }
                guard let continuation = sleeper.continuation else {
                    // Not suspended yet: the suspension sees the flag and throws.
                    state.sleepers[id]?.cancelled = true
                    return nil
                }
                state.sleepers[id] = nil
                return continuation
            }
            continuation?.resume(throwing: CancellationError())
        }
    }
}

/// The wall clock moved by an offset that may change: on a store shared by several hosts,
/// the store's clock (this host's plus the measured difference), so that every daemon
/// agrees on run_at, leases and breaker pauses whatever its own clock says.
public final class OffsetClock: StintClock {
    private let offset: Mutex<Double>
    private let base = SystemClock()

    /// Creates a clock `offset` seconds ahead of this host's (behind, when negative).
    public init(offset: Double = 0) {
        self.offset = Mutex(offset)
    }

    /// Seconds this clock runs ahead of this host's.
    public var seconds: Double {
        get { offset.withLock { $0 } }
        set { offset.withLock { $0 = newValue } }
    }

    /// This host's time plus the offset.
    public func now() -> Date { base.now().addingTimeInterval(seconds) }

    /// Sleeps until this clock reaches `deadline`, as ``SystemClock`` does for its own.
    public func sleep(until deadline: Date) async throws {
        try await SystemClock.sleep(until: deadline, on: self)
    }

    /// Sleeps `seconds` of elapsed time, as ``SystemClock`` does.
    public func sleep(for seconds: Double) async throws {
        try await base.sleep(for: seconds)
    }
}
