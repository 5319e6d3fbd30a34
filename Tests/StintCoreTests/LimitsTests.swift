import Foundation
import StintCore
import Testing

@Suite("Limits")
struct LimitsTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as StintError {
            return error.code == .usage ? error.message : "not a usage error: \(error)"
        } catch {
            return "not a StintError: \(error)"
        }
    }

    @Test("durations: negative says negative, too long names the bound, NaN and infinity are refused")
    func durations() {
        #expect(Self.message { try Limits.checkDuration(-5, "--timeout") }?.contains("must not be negative") == true)
        #expect(Self.message { try Limits.checkDuration(2e20, "--delay") }?.contains("at most 3650 days") == true)
        #expect(Self.message { try Limits.checkDuration(.infinity, "--delay") } != nil)
        #expect(Self.message { try Limits.checkDuration(.nan, "--delay") } != nil)
        #expect(Self.message { try Limits.checkDuration(0, "--timeout", exclusive: true) } != nil)
        #expect(Self.message { try Limits.checkDuration(0, "--delay") } == nil)
        #expect(Self.message { try Limits.checkDuration(Limits.maxDuration, "--delay") } == nil)
        #expect(Self.message { try Limits.checkDuration(nil, "--delay") } == nil)
    }

    @Test("a sleep is at most a day and never negative, whatever the wake-up")
    func sleepable() {
        #expect(Limits.sleepable(1e300) == Limits.maxSleep)
        #expect(Limits.sleepable(-1) == 0)
        #expect(Limits.sleepable(.nan) == 0)
        #expect(Limits.sleepable(.infinity) == Limits.maxSleep)
        #expect(Limits.sleepable(2.5) == 2.5)
    }

    @Test("a job spec is held to every bound")
    func jobSpec() {
        func spec(_ change: (inout JobSpec) -> Void) -> JobSpec {
            var spec = JobSpec(argv: ["true"], cwd: "/tmp")
            change(&spec)
            return spec
        }
        let refused: [JobSpec] = [
            spec { $0.priority = 1_000_001 }, spec { $0.outputCap = (1 << 40) + 1 }, spec { $0.backoffMax = 1e20 },
            spec { $0.runAt = Self.now.addingTimeInterval(Limits.maxRunAhead + 1) }, spec { $0.env = ["A=B": "x"] },
            spec { $0.env = ["A": "x\0y"] }, spec { $0.session = "a/b" }, spec { $0.session = "" },
            spec { $0.argv = ["echo", String(repeating: "x", count: Limits.maxArgumentBytes + 1)] },
            spec { $0.labels = Dictionary(uniqueKeysWithValues: (0...Limits.maxLabels).map { ("k\($0)", "v") }) },
        ]
        for job in refused {
            #expect(Self.message { try job.validate(now: Self.now) } != nil, "\(job)")
        }
        let huge = spec { $0.argv = ["echo"] + Array(repeating: String(repeating: "y", count: 100_000), count: 30) }
        #expect(Self.message { try huge.validate(now: Self.now) } == nil)
        #expect(Self.message { try huge.validate(now: Self.now, argumentSpace: 2 << 20) }?.contains("ARG_MAX") == true)
        #expect(Self.message { try spec { $0.priority = -1_000_000 }.validate(now: Self.now) } == nil)
    }

    @Test("RFC 3339 writes any date, however far, without trapping")
    func farDates() {
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1e20)) == "9999-12-31T23:59:59.999Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -1e20)).hasPrefix("0001-01-01"))
    }
}
