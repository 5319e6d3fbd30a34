import Foundation
import StintCore
import Testing

/// `stint daemon --trace-hand-offs PATH`: one time-stamped line per step of each attempt.
@Suite("stint daemon --trace-hand-offs")
struct HandOffTraceTests {
    @Test("each attempt's steps are stamped once each, in their order, with the job and attempt")
    func stampsEverySteps() throws {
        let stint = try StintHarness(start: false)
        let trace = stint.home + "/trace"
        try stint.startDaemon(parallel: 2, arguments: ["--trace-hand-offs", trace])
        let before = Int64(Date().timeIntervalSince1970 * 1e9)
        let ids = try (0..<3).map { _ in try stint.add("--", "true") }
        #expect(try stint.run(["wait"] + ids.map(String.init)).status == 0)
        #expect(try stint.run("daemon", "stop").status == 0)
        let after = Int64(Date().timeIntervalSince1970 * 1e9)
        var steps: [Int64: [(String, Int64)]] = [:]
        for line in try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            try #require(fields.count == 4, "\(line)")
            #expect(fields[2] == "1")
            let id = try #require(Int64(fields[1]))
            steps[id, default: []].append((fields[0], try #require(Int64(fields[3]))))
        }
        #expect(Set(steps.keys) == Set(ids))
        for (id, stamped) in steps {
            #expect(stamped.map(\.0) == ["claimed", "spawned", "exited", "recorded", "answered"], "job \(id)")
            let times = stamped.map(\.1)
            #expect(times == times.sorted(), "job \(id): \(times)")
            #expect(times.allSatisfy { $0 >= before && $0 <= after }, "job \(id): \(times)")
        }
    }

    @Test("a trace file that cannot be opened is a usage error (exit 64) and no daemon runs")
    func unopenable() throws {
        let stint = try StintHarness(start: false)
        let result = try stint.run("daemon", "--trace-hand-offs", stint.home + "/missing/folder/trace")
        #expect(result.status == 64, "\(result.status) \(result.stderr)")
        #expect(result.stderr.contains("--trace-hand-offs"), "\(result.stderr)")
        #expect(try stint.run("daemon", "status").status != 0)
    }
}
