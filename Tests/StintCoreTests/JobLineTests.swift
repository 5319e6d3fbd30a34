import Foundation
import StintCore
import Testing

@Suite("JobLine")
struct JobLineTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("a line's fields override the defaults; env and labels merge; durations and sizes take numbers or text")
    func applied() throws {
        let line = try JobLine.parse(
            #"{"argv":["./render","1"],"env":{"Q":"high"},"labels":{"film":"intro"},"timeout":"10m","output_cap":"8MiB","delay":30,"backoff":"1s..5s","hold":true}"#)
        var defaults = JobSpec(argv: line.argv, cwd: "/srv")
        defaults.env = ["PATH": "/bin"]
        defaults.labels = ["team": "a"]
        let spec = try line.applied(to: defaults, now: Self.now)
        #expect(spec.env == ["PATH": "/bin", "Q": "high"])
        #expect(spec.labels == ["team": "a", "film": "intro"])
        #expect(spec.timeout == 600)
        #expect(spec.outputCap == 8 << 20)
        #expect(spec.delay == 30)
        #expect(spec.backoffMin == 1 && spec.backoffMax == 5)
        #expect(spec.hold == true)
        #expect(spec.cwd == "/srv")
    }

    @Test("exactly one of command and argv; a bad value names its field")
    func refused() throws {
        #expect(throws: StintError.self) { try JobLine.parse(#"{"command":"make","argv":["make"]}"#) }
        #expect(throws: StintError.self) { try JobLine.parse(#"{"timeout":"1s"}"#) }
        #expect(throws: StintError.self) { try JobLine.parse("not json") }
        let line = try JobLine.parse(#"{"command":"make","timeout":"-5s"}"#)
        #expect {
            try line.applied(to: JobSpec(shell: "make", cwd: "/"), now: Self.now)
        } throws: { error in
            (error as? StintError)?.message == "timeout must not be negative: -5s"
        }
    }
}
