import Foundation
import Testing

@testable import StintRunner

/// The exit record read by hand agrees with JSONDecoder on what a shim writes, and a
/// record that is not one fails as JSONDecoder fails.
@Suite("ExitRecord")
struct ExitRecordTests {
    static func foundation(_ text: String) throws -> ExitRecord {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ExitRecord.self, from: Data(text.utf8))
    }

    static let records = [
        // What a shim writes, padded with spaces to its reserved 4 KiB.
        #"{"version":1,"reason":"exited","exit_code":0,"signal":null,"started_at":1796140352.322672,"ended_at":1796140352.324826,"pid":20109,"peak_rss_bytes":1839104,"output_bytes":0,"dropped_bytes":0,"message":null}"#
            + String(repeating: " ", count: 3800),
        #"{"version":1,"reason":"signal","signal":9,"started_at":1,"ended_at":2.5}"#,
        #"{"version":1,"reason":"launch_error","started_at":1,"ended_at":1,"message":"stint: cannot run 'x': No such file \"or\" directory\n"}"#,
    ]

    @Test("what a shim writes reads the same both ways", arguments: records)
    func agrees(_ text: String) throws {
        #expect(try ExitRecord.decode(Data(text.utf8)) == Self.foundation(text))
    }

    @Test(
        "a record that is not one fails",
        arguments: [
            "", "{}", #"{"version":1,"reason":"exited","started_at":1}"#,
            #"{"version":1,"reason":"exited","exit_code":"0","started_at":1,"ended_at":2}"#,
            #"{"version":1.5,"reason":"exited","started_at":1,"ended_at":2}"#,
        ])
    func refuses(_ text: String) {
        #expect(throws: (any Error).self) { try ExitRecord.decode(Data(text.utf8)) }
        #expect(throws: (any Error).self) { try Self.foundation(text) }
    }
}
