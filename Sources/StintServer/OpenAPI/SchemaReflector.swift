import Foundation
import StintCore

/// JSON Schemas (as OpenAPI 3.1 uses them) of the API's `Codable` types, read from the types
/// themselves, so that the document cannot drift from what the daemon encodes and decodes.
///
/// A type is decoded once from nothing by a ``Decoder`` that notes every key it asks for, with
/// the type of its value: `decode` makes a key required, `decodeIfPresent` optional (and
/// nullable). Keys are spelled as ``StintJSON`` spells them on the wire (snake_case). Dates are
/// RFC 3339 strings, as the encoder writes them. A type the decoder cannot make from nothing
/// (an enum, a value checked in `init(from:)`) says what it is through ``OpenAPISchemaProviding``;
/// one that does not is an error naming it, which the document's test turns into a failure.
final class SchemaReflector {
    /// The named schemas (`#/components/schemas/NAME`), one per struct.
    private(set) var components: [String: Any] = [:]
    /// Names whose schema is being read now: a type that contains itself gets a reference.
    private var reading: Set<String> = []
    /// Wire spellings of Swift key names, as ``StintJSON/encoder(pretty:)`` converts them.
    private var wireKeys: [String: String] = [:]

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The schema of `type`: a reference for a struct, inline for the rest.
    func schema<T: Decodable>(of type: T.Type) throws -> [String: Any] {
        try reflect(type).schema
    }

    /// `type`'s schema and a value of it made from nothing.
    func reflect<T: Decodable>(_ type: T.Type) throws -> (value: T, schema: [String: Any]) {
        if let known = Self.primitive(type) { return known }
        if let provider = type as? any OpenAPISchemaProviding.Type {
            return (provider.openAPISample as! T, provider.openAPISchema)
        }
        if let optional = type as? any OpenAPIOptional.Type {
            let wrapped = try optional.wrappedSchema(self)
            return (optional.openAPINone as! T, ["anyOf": [wrapped, ["type": "null"]]])
        }
        if let dictionary = type as? any OpenAPIStringDictionary.Type {
            return (dictionary.empty as! T, ["type": "object", "additionalProperties": try dictionary.valueSchema(self)])
        }
        let name = Self.name(of: type)
        let decoder = ReflectingDecoder(reflector: self)
        if reading.contains(name) {
            throw Failure(description: "\(name) contains itself; give it an OpenAPISchemaProviding conformance")
        }
        reading.insert(name)
        defer { reading.remove(name) }
        let value: T
        do {
            value = try T(from: decoder)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "\(name) cannot be read from nothing (\(error)); give it an OpenAPISchemaProviding conformance")
        }
        // A struct without stored properties asks for nothing: an empty object.
        switch decoder.shape ?? .object(properties: [:], required: []) {
        case .object(let properties, let required):
            var schema: [String: Any] = ["type": "object", "properties": properties, "additionalProperties": false]
            if !required.isEmpty { schema["required"] = required.sorted() }
            components[name] = schema
            return (value, ["$ref": "#/components/schemas/\(name)"])
        case .array(let items):
            return (value, ["type": "array", "items": items ?? [:]])
        case .single(let schema):
            return (value, schema)
        }
    }

    /// The component name of `type`: its name without generic arguments' module prefixes.
    static func name(of type: Any.Type) -> String {
        String(describing: type).replacingOccurrences(of: "StintCore.", with: "")
            .replacingOccurrences(of: "<", with: "Of").replacingOccurrences(of: ">", with: "")
            .replacingOccurrences(of: ", ", with: "And").replacingOccurrences(of: ".", with: "")
    }

    /// `key` as the API spells it.
    func wireKey(_ key: String) -> String {
        if let known = wireKeys[key] { return known }
        let data = (try? StintJSON.encoder().encode(KeyProbe(key: key))) ?? Data()
        let spelled = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?.keys.first ?? key
        wireKeys[key] = spelled
        return spelled
    }

    private static func primitive<T>(_ type: T.Type) -> (value: T, schema: [String: Any])? {
        let found: (Any, [String: Any])? =
            switch type {
            case is String.Type: ("", ["type": "string"])
            case is Bool.Type: (false, ["type": "boolean"])
            case is Int.Type: (0, ["type": "integer", "format": "int64"])
            case is Int64.Type: (Int64(0), ["type": "integer", "format": "int64"])
            case is Int32.Type: (Int32(0), ["type": "integer", "format": "int32"])
            case is UInt64.Type: (UInt64(0), ["type": "integer", "minimum": 0])
            case is UInt32.Type: (UInt32(0), ["type": "integer", "minimum": 0, "format": "int64"])
            case is Double.Type: (0.0, ["type": "number"])
            case is Float.Type: (Float(0), ["type": "number"])
            case is Date.Type: (Date(timeIntervalSince1970: 0), ["type": "string", "format": "date-time"])
            case is UUID.Type: (UUID(), ["type": "string", "format": "uuid"])
            case is Data.Type: (Data(), ["type": "string", "contentEncoding": "base64"])
            default: nil
            }
        return found.map { ($0.0 as! T, $0.1) }
    }
}

/// A type that states its own schema and a value of it, for the reflector.
protocol OpenAPISchemaProviding: Decodable {
    static var openAPISchema: [String: Any] { get }
    static var openAPISample: Self { get }
}

/// A string enum: its schema lists the raw values.
protocol OpenAPIStringEnum: OpenAPISchemaProviding, CaseIterable, RawRepresentable where RawValue == String {}

extension OpenAPIStringEnum {
    static var openAPISchema: [String: Any] { ["type": "string", "enum": allCases.map(\.rawValue)] }
    static var openAPISample: Self { allCases.first! }
}

/// `Optional`, seen through a protocol the reflector can test for.
protocol OpenAPIOptional {
    static var openAPINone: Self { get }
    static func wrappedSchema(_ reflector: SchemaReflector) throws -> [String: Any]
}

extension Optional: OpenAPIOptional where Wrapped: Decodable {
    static var openAPINone: Self { nil }
    static func wrappedSchema(_ reflector: SchemaReflector) throws -> [String: Any] { try reflector.schema(of: Wrapped.self) }
}

/// A dictionary with string keys: an object of any keys, each value of one schema.
protocol OpenAPIStringDictionary {
    static var empty: Self { get }
    static func valueSchema(_ reflector: SchemaReflector) throws -> [String: Any]
}

extension Dictionary: OpenAPIStringDictionary where Key == String, Value: Decodable {
    static var empty: Self { [:] }
    static func valueSchema(_ reflector: SchemaReflector) throws -> [String: Any] { try reflector.schema(of: Value.self) }
}

/// An object with one member named `key`, to learn how the encoder spells a key.
private struct KeyProbe: Encodable {
    let key: String
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: ReflectedKey.self)
        try container.encode(0, forKey: ReflectedKey(stringValue: key))
    }
}

private struct ReflectedKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// The decoder that makes a value from nothing while noting what it is made of.
private final class ReflectingDecoder: Decoder {
    enum Shape {
        case object(properties: [String: Any], required: Set<String>)
        case array(items: [String: Any]?)
        case single([String: Any])
    }

    let reflector: SchemaReflector
    var shape: Shape?
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    init(reflector: SchemaReflector) { self.reflector = reflector }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        if shape == nil { shape = .object(properties: [:], required: []) }
        return KeyedDecodingContainer(KeyedReflection<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        if shape == nil { shape = .array(items: nil) }
        return UnkeyedReflection(decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleReflection(decoder: self)
    }

    /// Keys asked about with `decodeNil(forKey:)`: optional, as the standard library's
    /// `decodeIfPresent` of a `String`, `Int` or other primitive asks before it decodes.
    var nullable: Set<String> = []

    func note(_ key: String, _ schema: [String: Any], required: Bool) {
        guard case .object(var properties, var requiredKeys) = shape else { return }
        let wire = reflector.wireKey(key)
        let required = required && !nullable.contains(key)
        properties[wire] = required ? schema : ["anyOf": [schema, ["type": "null"]]]
        if required { requiredKeys.insert(wire) }
        shape = .object(properties: properties, required: requiredKeys)
    }
}

private struct KeyedReflection<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: ReflectingDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool { true }
    func decodeNil(forKey key: Key) throws -> Bool {
        decoder.nullable.insert(key.stringValue)
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let (value, schema) = try decoder.reflector.reflect(type)
        decoder.note(key.stringValue, schema, required: true)
        return value
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        let (_, schema) = try decoder.reflector.reflect(type)
        decoder.note(key.stringValue, schema, required: false)
        return nil
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw SchemaReflector.Failure(description: "nested containers (key \(key.stringValue)) are not reflected")
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw SchemaReflector.Failure(description: "nested containers (key \(key.stringValue)) are not reflected")
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { decoder }
}

/// An array of one element: enough to learn the element's schema.
private struct UnkeyedReflection: UnkeyedDecodingContainer {
    let decoder: ReflectingDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { 1 }
    var currentIndex = 0
    var isAtEnd: Bool { currentIndex >= 1 }

    init(decoder: ReflectingDecoder) { self.decoder = decoder }

    mutating func decodeNil() throws -> Bool { false }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, schema) = try decoder.reflector.reflect(type)
        decoder.shape = .array(items: schema)
        currentIndex += 1
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        throw SchemaReflector.Failure(description: "nested containers in arrays are not reflected")
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw SchemaReflector.Failure(description: "nested containers in arrays are not reflected")
    }

    mutating func superDecoder() throws -> any Decoder { decoder }
}

/// A single value: its schema is the value's.
private struct SingleReflection: SingleValueDecodingContainer {
    let decoder: ReflectingDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, schema) = try decoder.reflector.reflect(type)
        decoder.shape = .single(schema)
        return value
    }
}
