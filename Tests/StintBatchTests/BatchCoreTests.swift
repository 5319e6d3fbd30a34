import StintBatch
import StintCore
import Testing

@Suite("StintBatch: units, the checkpoint frontier, the breaker, the exit code")
struct BatchCoreTests {
    @Test("ranges, id lists and files give their units in order, and resume by value or position")
    func units() throws {
        let range = try BatchUnits.range("53000-53100")
        #expect(range.count == 101)
        #expect(range.value(at: 1) == "53000")
        #expect(range.value(at: 101) == "53100")
        #expect(try range.position(resumingFrom: "53051") == 52)
        #expect(range.resumeArgument(for: 52) == "53051")
        #expect(throws: StintError.self) { try range.position(resumingFrom: "52999") }
        let ids = try BatchUnits.ids("a, b,c")
        #expect(ids.count == 3)
        #expect(ids.value(at: 2) == "b")
        #expect(try ids.position(resumingFrom: "3") == 3)
        #expect(ids.resumeArgument(for: 3) == "3")
        let file = try BatchUnits.lines("# header\none\n\n two \n")
        #expect(file.count == 2)
        #expect(file.value(at: 2) == "two")
        for bad in ["5-1", "x-3", "-3", "1-", "1-2-3"] {
            #expect(throws: StintError.self, "\(bad)") { try BatchUnits.range(bad) }
        }
        #expect(throws: StintError.self) { try BatchUnits.ids("a,,b") }
        #expect(throws: StintError.self) { try BatchUnits.lines("# only a comment\n") }
    }

    @Test("the frontier is the highest position below which every unit finished")
    func frontier() {
        var frontier = CheckpointFrontier()
        do { let result = frontier.finish(2); #expect(!result) }
        do { let result = frontier.finish(3); #expect(!result) }
        #expect(frontier.completed == 0)
        do { let result = frontier.finish(1); #expect(result) }
        #expect(frontier.completed == 3)
        do { let result = frontier.finish(5); #expect(!result) }
        do { let result = frontier.finish(4); #expect(result) }
        #expect(frontier.completed == 5)
        do { let result = frontier.finish(2); #expect(!result, "a position at or below the frontier changes nothing") }
        var resumed = CheckpointFrontier(completed: 50)
        do { let result = resumed.finish(51); #expect(result) }
        #expect(resumed.completed == 51)
    }

    @Test("N failures in a row open the breaker; a success in between resets the count; 0 never opens")
    func breaker() {
        var breaker = ConsecutiveFailures(limit: 3)
        do { let result = breaker.record(success: false); #expect(!result) }
        do { let result = breaker.record(success: false); #expect(!result) }
        do { let result = breaker.record(success: true); #expect(!result) }
        do { let result = breaker.record(success: false); #expect(!result) }
        do { let result = breaker.record(success: false); #expect(!result) }
        do { let result = breaker.record(success: false); #expect(result) }
        var off = ConsecutiveFailures(limit: 0)
        for _ in 0..<100 { do { let result = off.record(success: false); #expect(!result) } }
    }

    @Test("exit codes: 0 all ok, 6 some failed, 7 aborted by a signal, 8 circuit broken")
    func exitCodes() {
        #expect(BatchSummary(total: 3, succeeded: 3).exitCode == 0)
        #expect(BatchSummary(total: 3, succeeded: 2, failed: 1, failedUnits: ["2"]).exitCode == 6)
        #expect(BatchSummary(total: 3, succeeded: 1, abortedBy: .signal).exitCode == 7)
        #expect(BatchSummary(total: 3, failed: 3, abortedBy: .maxFailures).exitCode == 8)
        #expect(BatchSummary(total: 3, failed: 1, abortedBy: .maxFailures).exitCode == 8, "the breaker wins over partial failure")
    }
}
