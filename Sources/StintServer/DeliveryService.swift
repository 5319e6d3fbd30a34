import ServiceLifecycle
import StintEngine

/// Runs the delivery worker's loop for the daemon's lifetime; on graceful shutdown it
/// sends what is due within the budget and leaves the rest pending for the next start.
struct DeliveryService: Service {
    let worker: DeliveryWorker
    /// Seconds the drain may take.
    let budget: Double

    func run() async throws {
        async let loop: Void = worker.run()
        try? await gracefulShutdown()
        await worker.drain(budget: budget)
        await loop
    }
}
