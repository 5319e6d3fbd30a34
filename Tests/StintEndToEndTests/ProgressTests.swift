import Foundation
import StintCore
import Testing

@Suite("Progress and checkpoints reported from inside a job", .serialized)
struct ProgressTests {
    @Test("a job's progress shows in ls, show and summary; its checkpoint reaches the retry as STINT_CHECKPOINT")
    func progressAndCheckpoint() throws {
        let stint = try StintHarness()
        let gate = stint.home + "/gate"
        let script = """
            if [ -n "$STINT_CHECKPOINT" ]; then echo "resumed after $STINT_CHECKPOINT"; exit 0; fi
            '\(stint.binary)' progress 1234/50000 --message 'mail 1234' || exit 90
            '\(stint.binary)' checkpoint 1234 || exit 91
            while [ ! -e '\(gate)' ]; do sleep 0.05; done
            exit 1
            """
        let id = try stint.add("--session", "s", "--", "sh", "-c", script)
        #expect(try stint.eventually { try stint.show(id).checkpoint == "1234" })
        let running = try stint.show(id)
        #expect(running.progress?.done == 1234)
        #expect(running.progress?.total == 50000)
        #expect(running.progress?.message == "mail 1234")
        #expect(try stint.run("ls").stdout.contains("running 1,234/50,000 (2.5%)"))
        #expect(try stint.run("show", "\(id)").stdout.contains("1,234/50,000 (2.5%) — mail 1234"))
        #expect(try stint.run("--session", "s", "summary").stdout.contains("1,234/50,000 (2.5%)"))
        // Another session cannot report for it.
        #expect(try stint.run("--session", "other", "progress", "1/2", "--job", "\(id)").status == 3)
        FileManager.default.createFile(atPath: gate, contents: nil)
        #expect(try stint.run("wait", "\(id)").status == 1)
        #expect(try stint.run("retry", "\(id)").status == 0)
        #expect(try stint.run("wait", "\(id)").status == 0)
        #expect(try stint.run("logs", "\(id)").stdout == "resumed after 1234\n")
        #expect(try stint.show(id).checkpoint == "1234")
    }

    @Test("progress outside a job, on an ended job, or malformed is refused and changes nothing")
    func refusals() throws {
        let stint = try StintHarness()
        let outside = try stint.run("progress", "1/2", "-o", "json")
        #expect(outside.status == 64)
        #expect(try outside.error().code == .usage)
        let id = try stint.add("true")
        #expect(try stint.run("wait", "\(id)").status == 0)
        let ended = try stint.run("checkpoint", "7", "--job", "\(id)", "-o", "json")
        #expect(ended.status == 9)
        #expect(try stint.show(id).checkpoint == nil)
        #expect(try stint.run("progress", "3/x", "--job", "\(id)").status == 64)
        #expect(try stint.run("progress", "-1", "--job", "\(id)").status == 64)
    }
}
