/// Told of every transaction a ``JobLedger`` runs and how long it took (queued behind other
/// writes included): the store's latency in `/metrics`. Called on the transaction's own
/// path, so it must not block (the daemon's records into lock-free histograms).
public protocol TransactionObserver: Sendable {
    func transaction(write: Bool, seconds: Double)
}
