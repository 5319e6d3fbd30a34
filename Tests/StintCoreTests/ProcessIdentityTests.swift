import Foundation
import StintCore
import Testing

@Suite("ProcessIdentity: telling a live batch holder from a dead one")
struct ProcessIdentityTests {
    @Test("this process is alive; a reaped child, or its pid with another start time, is not")
    func localHolders() throws {
        let me = ProcessIdentity.current
        #expect(me.pid == getpid())
        #expect(ProcessIdentity.isAlive(me, heartbeat: nil, now: Date()))
        var reused = me
        reused.started = String((Int(me.started) ?? 0) + 1)
        #expect(!ProcessIdentity.isAlive(reused, heartbeat: nil, now: Date()), "a pid reused by another process")
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        let started = ProcessIdentity.startTime(of: child.processIdentifier)
        child.waitUntilExit()
        let gone = BatchHolder(pid: child.processIdentifier, started: started ?? "0", host: ProcessIdentity.hostName)
        #expect(!ProcessIdentity.isAlive(gone, heartbeat: Date(), now: Date()), "a dead local holder, even with a fresh heartbeat")
    }

    @Test("a holder on another host lives while its heartbeat is younger than the lease")
    func remoteHolders() {
        let remote = BatchHolder(pid: 1, started: "1", host: ProcessIdentity.hostName + "-elsewhere")
        let now = Date()
        #expect(ProcessIdentity.isAlive(remote, heartbeat: now.addingTimeInterval(-59), now: now, lease: 60))
        #expect(!ProcessIdentity.isAlive(remote, heartbeat: now.addingTimeInterval(-61), now: now, lease: 60))
        #expect(!ProcessIdentity.isAlive(remote, heartbeat: nil, now: now, lease: 60))
    }
}
