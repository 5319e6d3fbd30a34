import ArgumentParser
import Foundation
import StintClient
import StintCore

/// `stint nodes`: the daemons sharing the store.
struct NodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "List the daemons sharing the store: node, address, last heartbeat, running jobs, version.",
        discussion: """
            On a PostgreSQL store every daemon that ever served it is listed; one whose lease \
            ran out is DOWN, and its running attempts are rescued by the others. ROLES shows \
            which node runs the once-per-cluster maintenance (retention). On a SQLite store, \
            this daemon alone.
            """)

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let answer = try CLIEnvironment.client.nodes()
        Output(format: global.output).emit(answer, ndjson: answer.nodes) {
            var table = Table(header: ["NODE", "STATUS", "ADDRESS", "HEARTBEAT", "RUNNING", "VERSION", "ROLES"])
            for node in answer.nodes {
                let status = node.stoppedAt != nil ? "stopped" : node.alive ? "up" : "DOWN"
                let address = node.address ?? "-"
                let heartbeat = JobText.age(node.heartbeatAt) + " ago"
                let roles = node.roles.isEmpty ? "-" : node.roles.joined(separator: ",")
                table.rows.append([
                    (node.node, node.node), (status, status), (address, address), (heartbeat, heartbeat),
                    ("\(node.running)", "\(node.running)"), (node.version, node.version), (roles, roles),
                ])
            }
            return table.render(palette: Palette.stdout, width: terminalWidth())
        }
    }
}
