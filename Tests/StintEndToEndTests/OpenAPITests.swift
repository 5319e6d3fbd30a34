import Foundation
import StintCore
import Testing

/// `GET /openapi.json` against the routes the daemon has and the JSON it answers with.
@Suite("OpenAPI document")
struct OpenAPITests {
    /// Fetches and parses the document from a running daemon.
    static func document(_ harness: StintHarness) throws -> [String: Any] {
        let answer = try RawHTTP.unix(harness.home + "/stint.sock", "GET", "/openapi.json")
        #expect(answer.status == 200)
        return try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
    }

    /// `METHOD /path/{param}` of every operation in the document.
    static func operations(_ document: [String: Any]) -> Set<String> {
        var found: Set<String> = []
        for (path, item) in document["paths"] as? [String: [String: Any]] ?? [:] {
            for method in item.keys { found.insert("\(method.uppercased()) \(path)") }
        }
        return found
    }

    /// `METHOD /path/{param}` of every route the server's sources register.
    static func registeredRoutes() throws -> Set<String> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let folder = root.appendingPathComponent("Sources/StintServer")
        let pattern = try Regex(#"router\.(get|post)\(\s*"([^"]+)""#)
        var found: Set<String> = []
        let files = FileManager.default.enumerator(atPath: folder.path)?.compactMap { $0 as? String } ?? []
        for file in files where file.hasSuffix(".swift") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for match in text.matches(of: pattern) {
                let method = String(match.output[1].substring ?? "").uppercased()
                let path = String(match.output[2].substring ?? "").split(separator: "/", omittingEmptySubsequences: false)
                    .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
                found.insert("\(method) \(path)")
            }
        }
        return found
    }

    @Test("the document is OpenAPI 3.1 and lists exactly the routes the server registers")
    func parity() throws {
        let harness = try StintHarness()
        let document = try Self.document(harness)
        #expect(document["openapi"] as? String == "3.1.0")
        let documented = Self.operations(document)
        let registered = try Self.registeredRoutes()
        #expect(registered.count > 30, "the sources were read: \(registered.count) routes")
        #expect(registered.subtracting(documented).isEmpty, "routes the document lacks: \(registered.subtracting(documented).sorted())")
        #expect(documented.subtracting(registered).isEmpty, "documented routes that do not exist: \(documented.subtracting(registered).sorted())")
    }

    @Test("every documented operation is a route the daemon answers (never its 404 or 405 for unknown routes)")
    func liveParity() throws {
        let harness = try StintHarness()
        let socket = harness.home + "/stint.sock"
        for operation in Self.operations(try Self.document(harness)).sorted() {
            let parts = operation.split(separator: " ")
            let path = parts[1].replacing(try Regex(#"\{id\}"#), with: "999999").replacing(try Regex(#"\{[a-z]+\}"#), with: "nothing")
            // A scoped client: routes that would stop the daemon or prune refuse it (403).
            let answer = try RawHTTP.unix(
                socket, String(parts[0]), String(path), headers: ["Stint-Session": "openapi-test"],
                body: parts[0] == "POST" ? "{}" : nil)
            #expect(answer.status != 405, "\(operation): \(answer.body)")
            #expect(!answer.body.contains("no such route"), "\(operation): \(answer.body)")
            #expect(answer.status < 500, "\(operation): \(answer.status) \(answer.body)")
        }
        #expect(try harness.run("daemon", "status").status == 0, "the daemon answers afterwards")
    }

    @Test("every reference resolves, and real answers fit their schemas' properties and required keys")
    func schemasFitAnswers() throws {
        let harness = try StintHarness()
        let id = try harness.add("-p", "--label", "k=v", "--", "true")
        _ = try harness.run("wait", String(id))
        let document = try Self.document(harness)
        let components = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let text = String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self)
        for match in text.matches(of: try Regex(#"#/components/schemas/([A-Za-z0-9]+)"#)) {
            let name = String(match.output[1].substring ?? "")
            #expect(components[name] != nil, "unresolved reference to \(name)")
        }
        let socket = harness.home + "/stint.sock"
        let checks: [(path: String, schema: String, list: Bool)] = [
            ("/v1/jobs/\(id)", "JobView", false), ("/v1/jobs", "JobView", true), ("/v1/daemon", "DaemonStatus", false),
            ("/v1/queues", "QueueView", true), ("/v1/summary", "SummaryView", false),
        ]
        for check in checks {
            let answer = try RawHTTP.unix(socket, "GET", check.path)
            let envelope = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
            let values = check.list ? (envelope["data"] as? [[String: Any]] ?? []) : [envelope["data"] as? [String: Any] ?? [:]]
            #expect(!values.isEmpty, "\(check.path) answered something")
            let schema = try #require(components[check.schema] as? [String: Any], "no schema \(check.schema)")
            let properties = Set((schema["properties"] as? [String: Any] ?? [:]).keys)
            let required = Set(schema["required"] as? [String] ?? [])
            for value in values {
                let keys = Set(value.keys)
                #expect(keys.subtracting(properties).isEmpty, "\(check.path): keys the schema lacks: \(keys.subtracting(properties).sorted())")
                #expect(required.subtracting(keys).isEmpty, "\(check.path): required keys missing: \(required.subtracting(keys).sorted())")
            }
        }
    }
}
