public import Foundation
import Synchronization

/// Where every time-based rule of Stint takes "now" from, so tests can move time by hand.
public protocol StintClock: Sendable {
    /// The current time.
    func now() -> Date
}

/// The wall clock.
public struct SystemClock: StintClock {
    /// Creates the wall clock.
    public init() {}
    /// `Date()`.
    public func now() -> Date { Date() }
}

/// A clock that moves only when told to: for tests of time-based rules without sleeps.
public final class ManualClock: StintClock {
    private let current: Mutex<Date>

    /// Creates a clock showing `start`.
    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    public func now() -> Date { current.withLock { $0 } }

    /// Moves the clock forward by `seconds`.
    public func advance(_ seconds: Double) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
