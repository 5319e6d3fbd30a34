/// How long the engine waits before it tries again a write the store could not take
/// (`E_UNAVAILABLE`: a full disk, a busy database): it doubles from ``first`` up to
/// ``maximum``, and never gives up, because the write is an outcome that must not be lost.
public struct StoreRetryBackoff: Sendable, Hashable {
    /// The first pause, in seconds. Default 0.1.
    public var first: Double
    /// The longest pause, in seconds. Default 5: once space is freed, the outcome is stored
    /// within 5 s.
    public var maximum: Double

    /// Creates a backoff; `maximum` is at least `first`.
    public init(first: Double = 0.1, maximum: Double = 5) {
        self.first = max(0.001, first)
        self.maximum = max(self.first, maximum)
    }

    /// The pause before try number `failures + 1`, after `failures` (≥ 1) failed ones.
    public func delay(afterFailures failures: Int) -> Double {
        let doublings = min(max(0, failures - 1), 32)
        return min(maximum, first * Double(1 << doublings))
    }
}
