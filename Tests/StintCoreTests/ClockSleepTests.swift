import Foundation
import StintCore
import Synchronization
import Testing

/// Sleeping on a clock: a manual clock's sleepers wake when it is moved past their
/// deadlines, never before, and at once when cancelled.
@Suite("Clock sleeps")
struct ClockSleepTests {
    /// Long, because only a hang should reach it: in the whole suite, the end-to-end tests
    /// block the cooperative pool's threads for minutes at a time.
    private static let patience: Duration = .seconds(300)

    /// Waits (in elapsed time, up to ``patience``) until `clock` has `count` sleepers.
    private func untilAsleep(_ clock: ManualClock, _ count: Int) async throws {
        let deadline = ContinuousClock.now + Self.patience
        while clock.sleepers != count {
            try #require(ContinuousClock.now < deadline, "\(clock.sleepers) sleepers, not \(count)")
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test("a sleeper wakes when the clock reaches its deadline, not before")
    func wakesAtDeadline() async throws {
        let clock = ManualClock()
        let woke = Shared<Date?>(nil)
        // Awaited below.
        let sleeper = Task {
            try await clock.sleep(for: 10)
            woke.value.withLock { $0 = clock.now() }
        }
        try await untilAsleep(clock, 1)
        clock.advance(9.999)
        try await Task.sleep(for: .milliseconds(20))
        #expect(woke.value.withLock { $0 } == nil)
        #expect(clock.sleepers == 1)
        clock.advance(0.001)
        try await sleeper.value
        #expect(woke.value.withLock { $0 } == Date(timeIntervalSince1970: 1_800_000_010))
        #expect(clock.sleepers == 0)
    }

    @Test("one advance wakes every sleeper it passes and only those")
    func wakesThoseDue() async throws {
        let clock = ManualClock()
        let start = clock.now()
        let woken = Shared<[Int]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for seconds in [5, 1, 30] {
                group.addTask {
                    try await clock.sleep(until: start.addingTimeInterval(Double(seconds)))
                    woken.value.withLock { $0.append(seconds) }
                }
            }
            try await untilAsleep(clock, 3)
            clock.advance(5)
            let deadline = ContinuousClock.now + Self.patience
            while woken.value.withLock({ $0.count }) < 2, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await Task.sleep(for: .milliseconds(20))
            #expect(woken.value.withLock { $0.sorted() } == [1, 5])
            #expect(clock.sleepers == 1)
            clock.advance(25)
            try await group.waitForAll()
        }
        #expect(woken.value.withLock { $0.sorted() } == [1, 5, 30])
    }

    @Test("a deadline already reached returns at once")
    func pastDeadline() async throws {
        let clock = ManualClock()
        try await clock.sleep(until: clock.now())
        try await clock.sleep(for: -1)
        try await SystemClock().sleep(until: Date().addingTimeInterval(-1))
        try await SystemClock().sleep(until: .distantPast)
        #expect(clock.sleepers == 0)
    }

    @Test("cancelling a sleeper ends its sleep at once with CancellationError")
    func cancellation() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: 3600) }
        try await untilAsleep(clock, 1)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleepers == 0)

        // Cancelled before it sleeps: it does not sleep at all.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await clock.sleep(for: 3600)
        }
        await #expect(throws: CancellationError.self) { try await early.value }
        #expect(clock.sleepers == 0)
    }

    @Test("the system clock sleeps elapsed time for a duration, and is cancellable")
    func systemClock() async throws {
        let began = ContinuousClock.now
        try await SystemClock().sleep(for: 0.05)
        #expect(ContinuousClock.now - began >= .milliseconds(50))

        let sleeper = Task { try await SystemClock().sleep(until: .distantFuture) }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
    }
}

/// A value several tasks of a test write and read.
private final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}
