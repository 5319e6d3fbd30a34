public import ServiceLifecycle
public import StintCore

/// Runs a ``DeliveryWorker``'s loop for the daemon's lifetime; on graceful shutdown it
/// sends what is due within a budget and leaves the rest pending for the next start.
public struct DeliveryService: Service {
    /// How the service stops.
    public struct Options: Sendable {
        /// Seconds a graceful shutdown gives the deliveries that are due. Default 10
        /// (``DeliveryPolicy/defaultShutdownBudget``).
        public var shutdownBudget: Double

        /// Creates options.
        public init(shutdownBudget: Double = DeliveryPolicy.defaultShutdownBudget) {
            self.shutdownBudget = max(0, shutdownBudget)
        }
    }

    private let worker: DeliveryWorker
    private let options: Options

    /// Creates the service of `worker`.
    public init(worker: DeliveryWorker, options: Options = Options()) {
        self.worker = worker
        self.options = options
    }

    /// Delivers until a graceful shutdown (or cancellation), then drains: the deliveries
    /// due are attempted within ``Options/shutdownBudget`` seconds, and it returns once they
    /// are recorded or cut off (not recorded, so sent again by the next daemon). It never
    /// throws.
    public func run() async throws {
        async let loop: Void = worker.run()
        try? await gracefulShutdown()
        await worker.drain(budget: options.shutdownBudget)
        await loop
    }
}
