import Foundation
import StintCore
import Testing

/// The two batch recipes of the README, extracted from it and run as written (with the
/// range made small and the cool-down short), against a real daemon.
@Suite("README batch recipes run as written", .serialized)
struct BatchRecipeTests {
    /// The README's bash blocks under "## Batches", in order.
    static func recipes() throws -> [String] {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("README.md").path) {
            directory = directory.deletingLastPathComponent()
        }
        let readme = try String(contentsOf: directory.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "## Batches").dropFirst().first)
            .components(separatedBy: "\n## ").first ?? ""
        return section.components(separatedBy: "```bash\n").dropFirst().map { $0.components(separatedBy: "```").first ?? "" }
    }

    /// Runs `script` with bash in `directory`, `stint` on PATH talking to `stint`'s daemon.
    static func bash(_ script: String, in directory: String, stint: StintHarness) throws -> (status: Int32, stderr: String) {
        let bin = stint.home + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: bin + "/stint") {
            try FileManager.default.createSymbolicLink(atPath: bin + "/stint", withDestinationPath: stint.binary)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        var environment = stint.environment
        environment["PATH"] = bin + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let errPath = stint.home + "/recipe-\(UUID().uuidString).err"
        FileManager.default.createFile(atPath: errPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    static func resyncScript(failing: String, in directory: String, log: String) throws {
        let script = "#!/bin/sh\necho \"$1\" >> '\(log)'\n[ \"$1\" != \(failing) ]\n"
        try script.write(toFile: directory + "/resync.sh", atomically: true, encoding: .utf8)
        chmod(directory + "/resync.sh", 0o755)
    }

    @Test("recipe 1: exit 9 from a busy queue → pause it, run the batch, and the trap resumes the queue")
    func pauseRunResume() throws {
        let stint = try StintHarness()
        defer { stint.shutDown() }
        let recipe = try #require(try Self.recipes().first)
        #expect(recipe.contains("--exclusive-with mail-sync"))
        let work = stint.home + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let log = stint.home + "/units.log"
        try Self.resyncScript(failing: "53050", in: work, log: log)
        // A job in the queue the batch must not run beside: the queue exists and is not paused.
        _ = try stint.add("--queue", "mail-sync", "--", "sleep", "1")
        let result = try Self.bash(recipe, in: work, stint: stint)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("pausing it for the batch"))
        #expect(result.stderr.contains("partial: 100/101 ok"), "\(result.stderr)")
        #expect(try stint.queue("mail-sync").paused == false, "the trap resumed the queue")
        let units = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(units.count == 101)
        #expect(Set(units).count == 101)
    }

    @Test("recipe 2: a circuit break cools down, the next run retries the failed streak from the checkpoint and finishes")
    func loopUntilComplete() throws {
        let stint = try StintHarness()
        defer { stint.shutDown() }
        let recipes = try Self.recipes()
        let recipe = try #require(recipes.count >= 2 ? recipes[1] : nil)
        #expect(recipe.contains("sleep 60"))
        let work = stint.home + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let log = stint.home + "/units.log"
        // Units fail while the "backend" is down (a flag file); the cool-down brings it back.
        let script = """
            #!/bin/sh
            if [ -e '\(work)/down' ] && [ "$1" -ge 53500 ]; then exit 1; fi
            echo "$1" >> '\(log)'
            """
        try script.write(toFile: work + "/resync.sh", atomically: true, encoding: .utf8)
        chmod(work + "/resync.sh", 0o755)
        FileManager.default.createFile(atPath: work + "/down", contents: nil)
        let adapted = recipe.replacingOccurrences(of: "sleep 60", with: "rm -f '\(work)/down'")
            .replacingOccurrences(of: "53000-54000", with: "53000-53600")
        let result = try Self.bash(adapted, in: work, stint: stint)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("circuit broken"))
        #expect(result.stderr.contains("completed after 2 attempt(s)"), "\(result.stderr)")
        let units = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(units.count == 601, "every unit succeeded exactly once")
        #expect(Set(units).count == 601)
        #expect(try stint.run("batch", "ls").stdout.contains("no batch checkpoints"), "a finished batch forgets its checkpoint")
    }
}
