import Foundation
import StintCore

/// What `GET /openapi.json` says about one route: given where the route is registered
/// (``RouteRecorder``), so that no route can exist without it.
///
/// Unchecked `Sendable`: its schemas are JSON values (strings, numbers, arrays and
/// dictionaries of them) and its closures capture nothing; it is read once, to render the
/// document.
struct OpenAPIOperation: @unchecked Sendable {
    /// One line: what the route does.
    var summary: String
    /// More, when one line is not enough.
    var description: String?
    /// The query parameters it reads.
    var query: [QueryParameter] = []
    /// The request body's schema (JSON), if it takes one.
    var body: ((SchemaReflector) throws -> [String: Any])?
    /// The success answer's content types and schemas.
    var answer: (SchemaReflector) throws -> [String: Any]

    /// A query parameter.
    struct QueryParameter: @unchecked Sendable {
        var name: String
        var schema: [String: Any]
        var description: String
        /// Whether it may be given more than once (`label=A&label=B`).
        var repeated = false

        static func integer(_ name: String, _ description: String, maximum: Int64? = nil) -> QueryParameter {
            var schema: [String: Any] = ["type": "integer", "minimum": 0]
            if let maximum { schema["maximum"] = maximum }
            return QueryParameter(name: name, schema: schema, description: description)
        }

        static func string(_ name: String, _ description: String) -> QueryParameter {
            QueryParameter(name: name, schema: ["type": "string"], description: description)
        }

        /// A switch that is on with `1`.
        static func flag(_ name: String, _ description: String) -> QueryParameter {
            QueryParameter(name: name, schema: ["type": "string", "enum": ["0", "1"]], description: description)
        }
    }

    /// A JSON route answering `Out` in the envelope.
    init<Out: Decodable>(_ summary: String, description: String? = nil, query: [QueryParameter] = [], returns: Out.Type) {
        self.summary = summary
        self.description = description
        self.query = query
        answer = { reflector in ["application/json": ["schema": Self.envelope(try reflector.schema(of: Out.self))]] }
    }

    /// A JSON route taking a `Body` and answering `Out` in the envelope.
    init<Body: Decodable, Out: Decodable>(
        _ summary: String, description: String? = nil, query: [QueryParameter] = [], body: Body.Type, returns: Out.Type
    ) {
        self.init(summary, description: description, query: query, returns: Out.self)
        self.body = { reflector in try reflector.schema(of: Body.self) }
    }

    /// A route whose success answer is not the JSON envelope (`text/plain`, say), or is one
    /// of several content types; `content` maps each type to its schema.
    init(
        _ summary: String, description: String? = nil, query: [QueryParameter] = [],
        content: @escaping (SchemaReflector) throws -> [String: Any]
    ) {
        self.summary = summary
        self.description = description
        self.query = query
        answer = content
    }

    /// The success envelope around `data`.
    static func envelope(_ data: [String: Any]) -> [String: Any] {
        [
            "type": "object", "required": ["status", "data"], "additionalProperties": false,
            "properties": ["status": ["const": "ok"], "data": data],
        ]
    }

    /// A plain-text answer.
    static var text: [String: Any] { ["schema": ["type": "string"]] }
}
