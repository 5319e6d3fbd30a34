public import Synchronization

/// A count that any thread adds to without a lock.
public final class AtomicCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// Creates a count of 0.
    public init() {}

    /// Adds `amount` (1 by default).
    public func add(_ amount: Int = 1) { value.wrappingAdd(amount, ordering: .relaxed) }

    /// The count now.
    public var count: Int { value.load(ordering: .relaxed) }
}

/// A Prometheus histogram that any thread records into without a lock: one atomic count
/// per bucket, and the sum in nanoseconds.
public final class AtomicHistogram: Sendable {
    /// The buckets' upper bounds, ascending; a last bucket (`+Inf`) takes the rest.
    public let bounds: [Double]
    private let buckets: [AtomicCounter]
    private let sumNanos = Atomic<Int>(0)

    /// A histogram with these upper bounds (sorted here).
    public init(bounds: [Double]) {
        self.bounds = bounds.sorted()
        buckets = (0...bounds.count).map { _ in AtomicCounter() }
    }

    /// Records one observation of `value` (negative values count as 0).
    public func record(_ value: Double) {
        let value = value.isFinite ? max(0, value) : 0
        let index = bounds.firstIndex { value <= $0 } ?? bounds.count
        buckets[index].add()
        sumNanos.wrappingAdd(Int(min(value, 1e9) * 1e9), ordering: .relaxed)
    }

    /// The cumulative counts per bound (then `+Inf`, the total) and the sum.
    public func snapshot() -> (cumulative: [Int], sum: Double) {
        var running = 0
        let cumulative = buckets.map { bucket in
            running += bucket.count
            return running
        }
        return (cumulative, Double(sumNanos.load(ordering: .relaxed)) / 1e9)
    }
}
