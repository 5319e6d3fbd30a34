import Foundation
import Testing

@testable import StintStore

/// The JSON columns, written and read by hand, agree with Foundation's coders both ways:
/// rows written before (by JSONEncoder, which escapes `/`) read the same.
@Suite("StoreJSON")
struct StoreJSONTests {
    static let maps: [[String: String]] = [
        [:], ["PATH": "/usr/bin:/bin", "HOME": "/home/me"], ["é": "ü\u{1F600}", "q": "\"\\\n\t\u{01}\u{7F}"], ["": ""],
    ]
    static let lists: [[String]] = [[], ["true"], ["sh", "-c", "echo \"a/b\" \\ $X\n"], ["\u{0}x", "\u{1F600}"]]

    @Test("what it writes, JSONDecoder reads back; what JSONEncoder wrote, it reads back")
    func agreesWithFoundation() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for map in Self.maps {
            #expect(try JSONDecoder().decode([String: String].self, from: Data(StoreJSON.text(map).utf8)) == map)
            let old = String(decoding: try encoder.encode(map), as: UTF8.self)
            #expect(try StoreJSON.stringMap(old) == map)
        }
        for list in Self.lists {
            #expect(try JSONDecoder().decode([String].self, from: Data(StoreJSON.text(list).utf8)) == list)
            let old = String(decoding: try encoder.encode(list), as: UTF8.self)
            #expect(try StoreJSON.strings(old) == list)
        }
        #expect(try StoreJSON.integers(StoreJSON.text([Int64(1), -2, Int64.max]), as: Int64.self) == [1, -2, Int64.max])
    }

    @Test("the same map is the same text (environments are shared by it)")
    func sortedKeys() {
        #expect(StoreJSON.text(["b": "2", "a": "1"]) == #"{"a":"1","b":"2"}"#)
    }

    @Test("a text that is not what the column holds fails as JSONDecoder fails")
    func damagedTexts() {
        for text in ["", "nope", "[1,2]", #"{"a":1}"#, "null"] {
            #expect(throws: (any Error).self) { try StoreJSON.strings(text) }
            #expect(throws: (any Error).self) { try StoreJSON.stringMap(text) }
        }
        #expect(throws: (any Error).self) { try StoreJSON.strings(nil) }
        #expect(throws: (any Error).self) { try StoreJSON.integers("[1.5]", as: Int.self) }
    }
}
