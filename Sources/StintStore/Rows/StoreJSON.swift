import Foundation
import StintCore

/// The JSON columns of every store (argv, labels, environments, `after`, `retry_on`)
/// written and read by hand as text, (StintCore's ``JSONWriter`` and ``JSONValue``): Foundation's
/// coders cost more than the rest of reading a job row together (a drain's profile had
/// them at about a fifth of the daemon's time). A text the hand reader does not take goes
/// to `JSONDecoder`, so that a damaged row fails with the error it always had.
package enum StoreJSON {
    package static func text(_ strings: [String]) -> String {
        var writer = JSONWriter()
        writer.beginArray()
        for string in strings { writer.string(string) }
        writer.endArray()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Keys sorted: the same map is the same text, which is what environments are shared by.
    package static func text(_ map: [String: String]) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        for key in map.keys.sorted() {
            writer.key(key)
            writer.string(map[key]!)
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    package static func text<N: BinaryInteger>(_ numbers: [N]) -> String {
        var writer = JSONWriter()
        writer.beginArray()
        for number in numbers { writer.integer(number) }
        writer.endArray()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    package static func strings(_ text: String?) throws -> [String] {
        if let items = parsed(text)?.arrayValue {
            let strings = items.compactMap(\.stringValue)
            if strings.count == items.count { return strings }
        }
        return try decoded([String].self, text)
    }

    package static func stringMap(_ text: String?) throws -> [String: String] {
        if case .object(let members)? = parsed(text) {
            var map: [String: String] = [:]
            map.reserveCapacity(members.count)
            for (key, value) in members {
                guard let string = value.stringValue else { return try decoded([String: String].self, text) }
                map[key] = string
            }
            return map
        }
        return try decoded([String: String].self, text)
    }

    package static func integers<N: FixedWidthInteger & Decodable>(_ text: String?, as type: N.Type = N.self) throws -> [N] {
        if let items = parsed(text)?.arrayValue {
            let numbers = items.compactMap { $0.integer(N.self) }
            if numbers.count == items.count { return numbers }
        }
        return try decoded([N].self, text)
    }

    private static func parsed(_ text: String?) -> JSONValue? {
        guard let text else { return nil }
        return JSONValue.parse(text.utf8)
    }

    private static func decoded<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T {
        try JSONDecoder().decode(type, from: Data((text ?? "null").utf8))
    }
}
