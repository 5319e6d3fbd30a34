import Foundation
import StintCore
import StintStore

/// The backend the `StoreConformance` suites run against: `STINT_TEST_STORE` (`sqlite`,
/// the default, or `memory`). `scripts/test` runs the suites once for each.
enum StoreKind: String, CaseIterable, Sendable {
    case sqlite
    case memory

    /// The backend this test process was started for; an unknown name stops the run.
    static let current: StoreKind = {
        let name = ProcessInfo.processInfo.environment["STINT_TEST_STORE"] ?? StoreKind.sqlite.rawValue
        guard let kind = StoreKind(rawValue: name) else { fatalError("STINT_TEST_STORE=\(name): use sqlite or memory") }
        return kind
    }()

    /// A new, empty backend of this kind; a file one in `directory`.
    func open(in directory: URL) throws -> any JobStore {
        switch self {
        case .sqlite: try SQLiteJobStore(path: directory.appendingPathComponent("stint.db").path)
        case .memory: MemoryJobStore()
        }
    }
}

/// A fresh backend of ``StoreKind/current`` in its own temporary folder, removed with it.
final class StoreFixture: Sendable {
    let directory: URL
    let backend: any JobStore
    let store: JobLedger

    init(notificationCap: Int = Session.defaultNotificationCap) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("stint-store-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        backend = try StoreKind.current.open(in: directory)
        store = JobLedger(backend, notificationCap: notificationCap)
    }

    /// The SQLite backend, when the suites run against it (for assertions on its rows).
    var sqlite: SQLiteJobStore? { backend as? SQLiteJobStore }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }
}

extension StoreKind {
    /// Whether backends of this kind keep batch checkpoints (``BatchStore``).
    var keepsBatchStore: Bool { self == .sqlite }
    /// Whether backends of this kind keep API tokens (``TokenStore``).
    var keepsTokenStore: Bool { self == .sqlite }
}
