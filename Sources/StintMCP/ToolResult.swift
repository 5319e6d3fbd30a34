import Foundation
import MCP
import StintCore

/// Turns a tool's reply, or its error, into an MCP tool result: the JSON object as
/// text (what most clients show the model) and as structured content, with the
/// session's pending notifications merged in.
enum ToolResult {
    /// A successful result.
    static func success(_ reply: any Encodable & Sendable, pending: Reply.Pending?) -> CallTool.Result {
        make(Merged(reply: reply, pending: pending), isError: false, structured: !(reply is any Reply.TextOnly))
    }

    /// A failed call: `isError` set, and the error's code, message and hint.
    static func failure(_ error: any Error, pending: Reply.Pending?) -> CallTool.Result {
        let stintError = ToolWording.reword(error as? StintError ?? StintError(.internal, String(describing: error)))
        return make(Merged(reply: Failure(error: stintError), pending: pending), isError: true, prefix: "\(stintError.code): \(stintError)\n")
    }

    private struct Failure: Encodable, Sendable {
        var error: StintError
    }

    /// Two objects encoded as one: the reply's keys, then the pending notifications'.
    private struct Merged: Encodable {
        let reply: any Encodable & Sendable
        let pending: Reply.Pending?

        func encode(to encoder: any Encoder) throws {
            try reply.encode(to: encoder)
            try pending?.encode(to: encoder)
        }
    }

    private static func make(_ value: Merged, isError: Bool, prefix: String = "", structured wanted: Bool = true) -> CallTool.Result {
        do {
            let data = try StintJSON.encoder().encode(value)
            let structured: Value? = wanted ? try JSONDecoder().decode(Value.self, from: data) : nil
            return CallTool.Result(
                content: [.text(text: prefix + String(decoding: data, as: UTF8.self), annotations: nil, _meta: nil)],
                structuredContent: structured, isError: isError)
        } catch {
            return CallTool.Result(
                content: [.text(text: "E_INTERNAL: cannot encode the result: \(error)", annotations: nil, _meta: nil)],
                isError: true)
        }
    }
}
