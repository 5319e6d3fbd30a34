import Foundation
import Hummingbird
import StintCore
import Synchronization

/// The OpenAPI 3.1 document of the API (`GET /openapi.json`), built from the routes as they
/// are registered and the schemas of their Swift types.
enum OpenAPIDocument {
    /// One documented route.
    struct Route: Sendable {
        var method: HTTPRequest.Method
        /// As registered: `/v1/jobs/:id`.
        var path: String
        var operation: OpenAPIOperation
    }

    /// The document, as compact JSON with sorted keys. Throws when a type cannot be described
    /// (``SchemaReflector``): a test builds every route's, so that fails before a release.
    static func render(_ routes: [Route]) throws -> Data {
        let reflector = SchemaReflector()
        var paths: [String: [String: Any]] = [:]
        for route in routes {
            let (path, parameters) = openAPIPath(route.path)
            paths[path, default: [:]][route.method.rawValue.lowercased()] = try operation(
                route, parameters: parameters, reflector: reflector)
        }
        var schemas = reflector.components
        schemas["ErrorEnvelope"] = [
            "type": "object", "required": ["status", "error"], "additionalProperties": false,
            "properties": [
                "status": ["const": "error"], "error": try reflector.schema(of: StintError.self),
                "data": [:] as [String: Any],
            ],
        ]
        let document: [String: Any] = [
            "openapi": "3.1.0",
            "info": [
                "title": "Stint", "version": StintVersion.current,
                "description": """
                    The API of the Stint daemon, which runs long commands in the background durably. Every \
                    JSON answer is the envelope `{"status":"ok","data":…}` or `{"status":"error","error":\
                    {"code":"E_…","message":…,"hint":…}}`; the error's code decides the status (E_USAGE 400, \
                    E_UNAUTHORIZED 401, E_FORBIDDEN 403, E_NOT_FOUND 404, E_CONFLICT 409, E_UNAVAILABLE 503, \
                    E_INTERNAL 500; a body over its route's limit 413, a path with another method 405). On \
                    the local socket a `Stint-Session` header scopes a request to a session; on TCP \
                    (`stint daemon --listen`) every request needs `Authorization: Bearer TOKEN`, and a \
                    session-bound token scopes it to its session.
                    """,
            ],
            "paths": paths,
            "components": [
                "schemas": schemas,
                "securitySchemes": [
                    "bearer": [
                        "type": "http", "scheme": "bearer",
                        "description": "An API token (`stint token create`); required on TCP, not on the local socket.",
                    ]
                ],
                "parameters": [
                    "session": [
                        "name": Session.header, "in": "header", "required": false,
                        "description": "Scopes the request to one session (the local socket; on TCP it may only narrow an unbound token).",
                        "schema": ["type": "string", "minLength": 1, "maxLength": Limits.maxSessionBytes],
                    ]
                ],
                "responses": [
                    "error": [
                        "description": "An error, in the envelope.",
                        "content": ["application/json": ["schema": ["$ref": "#/components/schemas/ErrorEnvelope"]]],
                    ]
                ],
            ],
            "security": [[:] as [String: Any], ["bearer": [] as [String]]],
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// `/v1/jobs/:id` as `/v1/jobs/{id}`, with its path parameters (`id` a positive integer,
    /// any other a string).
    static func openAPIPath(_ path: String) -> (String, [[String: Any]]) {
        var parameters: [[String: Any]] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            guard segment.hasPrefix(":") else { return String(segment) }
            let name = String(segment.dropFirst())
            let schema: [String: Any] =
                name == "id" ? ["type": "integer", "minimum": 1, "format": "int64"] : ["type": "string", "minLength": 1]
            parameters.append(["name": name, "in": "path", "required": true, "schema": schema])
            return "{\(name)}"
        }
        return (segments.joined(separator: "/"), parameters)
    }

    private static func operation(
        _ route: Route, parameters: [[String: Any]], reflector: SchemaReflector
    ) throws -> [String: Any] {
        let operation = route.operation
        var all = parameters
        all.append(["$ref": "#/components/parameters/session"])
        for query in operation.query {
            var parameter: [String: Any] = [
                "name": query.name, "in": "query", "required": false, "description": query.description,
            ]
            if query.repeated {
                parameter["schema"] = ["type": "array", "items": query.schema]
                parameter["explode"] = true
            } else {
                parameter["schema"] = query.schema
            }
            all.append(parameter)
        }
        var result: [String: Any] = [
            "summary": operation.summary,
            "operationId": operationID(route),
            "parameters": all,
            "responses": [
                "200": ["description": "Done.", "content": try operation.answer(reflector)],
                "default": ["$ref": "#/components/responses/error"],
            ],
        ]
        if let description = operation.description { result["description"] = description }
        if let body = operation.body {
            result["requestBody"] = [
                "required": true, "content": ["application/json": ["schema": try body(reflector)]],
            ]
        }
        return result
    }

    /// `GET /v1/jobs/:id/log` → `getJobsIdLog`.
    static func operationID(_ route: Route) -> String {
        let words = route.path.split(separator: "/").filter { $0 != "v1" }.map { word in
            let plain = word.hasPrefix(":") ? word.dropFirst() : word[...]
            return plain.prefix(1).uppercased() + plain.dropFirst()
        }
        return route.method.rawValue.lowercased() + words.joined()
    }
}

/// The document, built on its first request (the daemon's start-up does not pay for it) and
/// kept: the routes do not change while the daemon runs.
final class OpenAPIDocumentCache: Sendable {
    private let state = Mutex<(routes: [OpenAPIDocument.Route], data: Data?)>(([], nil))

    func set(_ routes: [OpenAPIDocument.Route]) { state.withLock { $0.routes = routes } }

    func data() throws -> Data {
        try state.withLock { state in
            if let data = state.data { return data }
            let data = try OpenAPIDocument.render(state.routes)
            state.data = data
            return data
        }
    }
}
