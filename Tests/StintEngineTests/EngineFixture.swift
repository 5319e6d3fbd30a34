import Foundation
import Logging
import StintCore
import StintEngine
import StintStore
import Testing
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// An engine over a real SQLite store in a temporary state folder, with fake processes and
/// a manual clock: engine behaviour in milliseconds, without a daemon or a shim.
final class EngineFixture: Sendable {
    let paths: StintPaths
    let store: JobLedger
    let clock = ManualClock()
    let processes: FakeProcesses
    let engine: Engine

    /// The node the fixture's engine claims as.
    static let node = "test-node"

    private init(configuration: Engine.Configuration) throws {
        var configuration = configuration
        configuration.worker = WorkerIdentity(node: Self.node)
        var template = Array("/tmp/stint-engine-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw StintError(.internal, "mkdtemp failed") }
        paths = StintPaths(home: String(cString: made))
        for folder in [paths.logs, paths.run] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        // The engine tests run on the in-memory store, which passes the same conformance suite.
        store = JobLedger(MemoryJobStore())
        processes = FakeProcesses(paths: paths, clock: clock)
        engine = Engine(
            store: store, paths: paths, processes: processes, configuration: configuration, clock: clock,
            logger: Logger(label: "stint.test.engine", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Runs `body` with a started engine whose services run meanwhile; `before` prepares
    /// the store and the fake processes for the engine's start (its reconciliation).
    /// Always cleans up.
    static func with(
        _ configuration: Engine.Configuration = .init(parallel: 2),
        before: (EngineFixture) async throws -> Void = { _ in },
        _ body: (EngineFixture) async throws -> Void
    ) async throws {
        let fixture = try EngineFixture(configuration: configuration)
        defer { try? FileManager.default.removeItem(atPath: fixture.paths.home) }
        try await before(fixture)
        try await fixture.engine.start()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in fixture.engine.services {
                group.addTask { try await service.run() }
            }
            do {
                try await body(fixture)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
        await fixture.engine.releaseWaiters()
        await fixture.engine.shutdown()
    }

    /// A job that runs `true` in `/tmp`, with the given settings.
    static func spec(
        queue: String? = nil, priority: Int? = nil, after: [Int64]? = nil, retries: Int? = nil, backoff: Double? = nil,
        stallAfter: Double? = nil
    ) -> JobSpec {
        JobSpec(
            argv: ["true"], cwd: "/tmp", queue: queue, priority: priority, after: after, retries: retries,
            backoffMin: backoff, backoffMax: backoff, stallAfter: stallAfter)
    }

    /// Adds one job through the engine, as `stint add` does; returns its id.
    func add(_ spec: JobSpec = EngineFixture.spec()) async throws -> Int64 {
        try #require(try await engine.add([spec]).ids.first)
    }

    /// The stored job `id`.
    func job(_ id: Int64) async throws -> StoredJob {
        try #require(try await store.job(id), "job \(id) is not in the store")
    }

    /// The ids of the jobs launched so far, in order, with their attempt numbers.
    var launched: [AttemptID] {
        processes.now.launched.map { AttemptID(job: $0.id, attempt: $0.attempt) }
    }

    /// How long a test waits, in elapsed time, for the engine to get somewhere before it
    /// fails: long, because only a hang should reach it. In isolation every step takes
    /// milliseconds; in the whole suite the end-to-end tests, which block the cooperative
    /// pool's two threads while they drive real processes, can hold these tests up for
    /// minutes.
    static let patience: Duration = .seconds(300)
    /// The first pause between two looks while waiting; it doubles up to ``longestPause``,
    /// so a wait costs little of a loaded machine and ends within milliseconds on an idle one.
    static let firstPause: Duration = .milliseconds(1)
    /// The longest pause between two looks while waiting.
    static let longestPause: Duration = .milliseconds(25)

    /// Waits (in elapsed time, up to ``patience``) until `condition` holds; fails the test
    /// if it never does.
    func until(
        _ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + Self.patience
        var pause = Self.firstPause
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting until \(what)", sourceLocation: sourceLocation)
                throw StintError(.internal, "timed out waiting until \(what)")
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, Self.longestPause)
        }
    }

    /// Waits (up to ``patience``) until job `id` is in `state`.
    func until(_ id: Int64, is state: JobState, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await until("job \(id) is \(state.rawValue)", sourceLocation: sourceLocation) {
            try await self.job(id).state == state
        }
    }

    /// Waits (up to ``patience``) until `count` attempts have been launched in all.
    func untilLaunched(_ count: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await until("\(count) attempts were launched", sourceLocation: sourceLocation) {
            self.processes.now.launched.count >= count
        }
    }

    /// Moves the clock on by `step` until `condition` holds (for up to ``patience``), giving
    /// the engine's services a moment to act between steps: for services whose next sleep
    /// starts only after they woke.
    func advance(
        by step: Double, until what: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + Self.patience
        var pause = Self.firstPause
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("the clock moved on and still not \(what)", sourceLocation: sourceLocation)
                throw StintError(.internal, "not \(what)")
            }
            clock.advance(step)
            try await Task.sleep(for: pause)
            pause = min(pause * 2, Self.longestPause)
        }
    }
}
