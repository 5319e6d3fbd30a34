import Foundation
import StintCore

// The API's enums and the values it checks as it decodes them, described for
// ``SchemaReflector``, which cannot make them from nothing.

extension JobState: OpenAPIStringEnum {}
extension AttemptReason: OpenAPIStringEnum {}
extension FailureClass: OpenAPIStringEnum {}
extension CircuitBreaker.State: OpenAPIStringEnum {}
extension OverlapPolicy: OpenAPIStringEnum {}
extension CatchUpPolicy: OpenAPIStringEnum {}
extension NotificationKind: OpenAPIStringEnum {}
extension DeliveryChannel: OpenAPIStringEnum {}
extension DeliveryStatus: OpenAPIStringEnum {}
extension WaitReason: OpenAPIStringEnum {}

extension PatternResult: OpenAPISchemaProviding {
    static var openAPISchema: [String: Any] {
        ["type": "string", "enum": [PatternResult.matched, .notMatched, .overBudget].map(\.rawValue)]
    }
    static var openAPISample: PatternResult { .matched }
}

extension StintError.Code: OpenAPISchemaProviding {
    static var openAPISchema: [String: Any] {
        let known: [StintError.Code] = [
            .notFound, .unavailable, .usage, .conflict, .partial, .aborted, .maxFailures, .stillRunning, .unauthorized,
            .forbidden, .internal,
        ]
        return [
            "type": "string", "pattern": "^E_[A-Z_]+$",
            "description": "Stable; new codes may be added. Known: \(known.map(\.rawValue).joined(separator: ", ")).",
        ]
    }
    static var openAPISample: StintError.Code { .internal }
}

extension WaitUntil: OpenAPISchemaProviding {
    static var openAPISchema: [String: Any] {
        ["type": "string", "description": "end, stall, idle:DURATION or output:PATTERN", "pattern": "^(end|stall|idle:.+|output:.*)$"]
    }
    static var openAPISample: WaitUntil { .end }
}
