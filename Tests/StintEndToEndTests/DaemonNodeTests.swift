import Foundation
import StintCore
import Testing

/// `stint daemon --node NAME`: every attempt records the node that claimed it, and a
/// daemon reconciles only its own node's attempts.
@Suite("stint daemon --node")
struct DaemonNodeTests {
    @Test("show names the node; another node's daemon leaves its running job alone; its own node concludes it")
    func reconcilesOnlyItsNode() throws {
        let stint = try StintHarness(start: false)
        try stint.startDaemon(parallel: 2, arguments: ["--node", "alpha"])
        let id = try stint.add("--", "sh", "-c", "sleep 2; echo finished")
        #expect(try stint.eventually { try stint.show(id).state == .running })
        let attempt = try #require(try stint.show(id).attemptList?.first)
        #expect(attempt.node == "alpha")
        #expect(attempt.instance?.isEmpty == false)
        #expect(try stint.run("show", String(id)).stdout.contains("node alpha"))

        stint.killDaemon()
        try stint.startDaemon(parallel: 2, arguments: ["--node", "beta"])
        // The job ends under its shim, but beta neither watches nor concludes alpha's attempt.
        let exitRecord = stint.home + "/run/\(id).1/exit.json"
        #expect(try stint.eventually(15) { FileManager.default.fileExists(atPath: exitRecord) })
        usleep(300_000)
        #expect(try stint.show(id).state == .running)
        #expect(try stint.show(id).attemptList?.first?.endedAt == nil)

        #expect(try stint.run("daemon", "stop").status == 0)
        try stint.startDaemon(parallel: 2, arguments: ["--node", "alpha"])
        #expect(try stint.eventually { try stint.show(id).state == .succeeded })
        let concluded = try #require(try stint.show(id).attemptList?.first)
        #expect(concluded.exitCode == 0)
        #expect(concluded.node == "alpha")
    }

    @Test("a node name that is empty, too long or has spaces is a usage error (exit 64)")
    func invalidNames() throws {
        let stint = try StintHarness(start: false)
        for name in ["", "has space", String(repeating: "n", count: 256)] {
            let result = try stint.run("daemon", "--node", name)
            #expect(result.status == 64, "\(name.prefix(20)): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("--node"), "\(result.stderr)")
        }
        #expect(try stint.run("daemon", "status").status != 0)
    }
}
