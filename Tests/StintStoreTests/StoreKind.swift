import Foundation
import Logging
import PostgresNIO
import StintCore
import StintPostgres
import StintStore

/// The backend the `StoreConformance` suites run against: `STINT_TEST_STORE` (`sqlite`,
/// the default, `memory`, or `postgres`, which needs `STINT_TEST_POSTGRES`: the URL of a
/// server's database that may create databases; each test gets a new one). `scripts/test`
/// runs the suites once for each, starting a throwaway PostgreSQL server for the last.
enum StoreKind: String, CaseIterable, Sendable {
    case sqlite
    case memory
    case postgres

    /// The backend this test process was started for; an unknown name stops the run.
    static let current: StoreKind = {
        let name = ProcessInfo.processInfo.environment["STINT_TEST_STORE"] ?? StoreKind.sqlite.rawValue
        guard let kind = StoreKind(rawValue: name) else {
            fatalError("STINT_TEST_STORE=\(name): use sqlite, memory or postgres")
        }
        return kind
    }()

    /// A new, empty backend of this kind; a file one in `directory`.
    func open(in directory: URL) async throws -> any JobStore {
        switch self {
        case .sqlite: try SQLiteJobStore(path: directory.appendingPathComponent("stint.db").path)
        case .memory: MemoryJobStore()
        case .postgres: try await PostgresJobStore(url: try Self.newPostgresDatabase(), connections: 2)
        }
    }

    /// A new database on the server `STINT_TEST_POSTGRES` names, as a store URL.
    static func newPostgresDatabase() async throws -> PostgresURL {
        guard let text = ProcessInfo.processInfo.environment["STINT_TEST_POSTGRES"] else {
            fatalError("STINT_TEST_STORE=postgres needs STINT_TEST_POSTGRES=postgres://USER@HOST:PORT/DB")
        }
        var url = try PostgresURL.parse(text)
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
                tls: .disable),
            id: 1, logger: Logger(label: "stint.tests"))
        let name = "stint_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
        try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "stint.tests"))
        try await connection.close()
        url.database = name
        return url
    }
}

/// A fresh backend of ``StoreKind/current`` in its own temporary folder, removed with it.
final class StoreFixture: Sendable {
    let directory: URL
    let backend: any JobStore
    let store: JobLedger

    init(notificationCap: Int = Session.defaultNotificationCap) async throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("stint-store-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        backend = try await StoreKind.current.open(in: directory)
        store = JobLedger(backend, notificationCap: notificationCap)
    }

    /// The SQLite backend, when the suites run against it (for assertions on its rows).
    var sqlite: SQLiteJobStore? { backend as? SQLiteJobStore }

    deinit {
        try? FileManager.default.removeItem(at: directory)
        // Its connections close; the database goes with the test server.
        if let postgres = backend as? PostgresJobStore { Task { await postgres.close() } }
    }
}

extension StoreKind {
    /// Whether backends of this kind keep batch checkpoints (``BatchStore``).
    var keepsBatchStore: Bool { self == .sqlite || self == .postgres }
    /// Whether backends of this kind keep API tokens (``TokenStore``).
    var keepsTokenStore: Bool { self == .sqlite || self == .postgres }
}
