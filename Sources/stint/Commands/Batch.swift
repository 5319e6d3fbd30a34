import ArgumentParser
import Foundation
import StintBatch
import StintClient
import StintCore

struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Run a command once per unit: interruptible, circuit-breaking, resumable, conflict-aware.",
        discussion: """
            stint batch (--range LO-HI | --ids LIST | --from FILE) [options] -- CMD ARG… {}

            `{}` in the command is replaced by the unit (appended when no argument has it). \
            Each unit runs in its own process group, with stdin from /dev/null and its output \
            captured (the last 10 lines are reported); it gets $STINT_BATCH_UNIT and \
            $STINT_BATCH_POSITION.

            Exit codes: 0 every unit succeeded; 6 some failed but every unit ran; 7 stopped by \
            SIGINT/SIGTERM after the running units finished (a second signal exits 128+N at \
            once); 8 --max-failures consecutive failures; 9 the same batch runs elsewhere, or \
            an --exclusive-with queue is not paused.

            The checkpoint (every unit up to it is done) is kept by the daemon, keyed by the \
            command and the units (with the working directory): running the same batch again \
            resumes after it. A batch that ran to its end forgets its checkpoint. \
            See `stint batch ls` and `stint batch forget`.

            Every option of a run: `stint batch run --help`.
            """,
        subcommands: [BatchRun.self, BatchList.self, BatchForget.self],
        defaultSubcommand: BatchRun.self)
}

struct BatchRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a batch (the default: `stint batch --range 1-10 -- CMD {}`).")

    @OptionGroup var global: GlobalOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("Units LO to HI, both included (integers ≥ 0).", valueName: "LO-HI"))
    var range: String?

    @Option(help: ArgumentHelp("Units from a comma-separated list.", valueName: "LIST"))
    var ids: String?

    @Option(
        name: .customLong("from"),
        help: ArgumentHelp("Units from a file, one per line (`-`: stdin); empty lines and # comments skipped.", valueName: "FILE"))
    var file: String?

    @Option(name: [.customShort("j"), .long], parsing: .unconditional, help: "Units run at once; the checkpoint still advances in order.")
    var parallel = 1

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop with exit 8 after N consecutive failed units (0: never).", valueName: "N"))
    var maxFailures = 0

    @Option(parsing: .unconditional, help: ArgumentHelp("Units between two checkpoints in the store.", valueName: "N"))
    var checkpointEvery = 50

    @Option(parsing: .unconditional, help: ArgumentHelp("Units between two progress reports.", valueName: "N"))
    var progressEvery = 10

    @Option(parsing: .unconditional, help: ArgumentHelp("Start at this unit: a value of --range, a position (from 1) of --ids or --from.", valueName: "N"))
    var resumeFrom: String?

    @Flag(help: "Start at the first unit, ignoring the checkpoint.")
    var restart = false

    @Flag(help: "Run even when the same batch runs elsewhere or an --exclusive-with queue is not paused.")
    var allowConcurrent = false

    @Option(help: ArgumentHelp("Refuse (exit 9) unless this queue is paused; repeatable.", valueName: "QUEUE"))
    var exclusiveWith: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp("A unit running longer gets SIGTERM (SIGKILL 10 s later) and fails.", valueName: "DUR"))
    var unitTimeout: String?

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command, with {} for the unit.", valueName: "CMD"))
    var command: [String] = []

    func run() async throws {
        let (units, target) = try unitsAndTarget()
        guard !command.isEmpty else {
            throw StintError(.usage, "no command given", hint: "put it after --: stint batch --range 1-10 -- ./process.sh {}")
        }
        if !command[0].contains("{}"), UnitCommand.executable(command[0], environment: CLIEnvironment.environment) == nil {
            throw StintError(.usage, "\(command[0]): command not found", hint: "check the name, or give its path")
        }
        try ValueParsing.atLeast(parallel, 0, flag: "--parallel")
        try ValueParsing.atLeast(maxFailures, 0, flag: "--max-failures")
        try ValueParsing.atLeast(checkpointEvery, 0, flag: "--checkpoint-every")
        try ValueParsing.atLeast(progressEvery, 0, flag: "--progress-every")
        if let resumeFrom { try ValueParsing.notNegative(resumeFrom, flag: "--resume-from") }
        if restart, resumeFrom != nil { throw StintError(.usage, "--restart and --resume-from exclude each other") }
        var options = BatchOptions()
        options.parallel = parallel
        options.maxFailures = maxFailures
        options.checkpointEvery = checkpointEvery
        options.progressEvery = progressEvery
        options.start = restart ? .restart : resumeFrom.map { .resumeFrom($0) } ?? .checkpoint
        options.allowConcurrent = allowConcurrent
        options.exclusiveWith = exclusiveWith
        options.commandLine = CommandLine.arguments
        let timeout = try unitTimeout.map { try ValueParsing.duration($0, flag: "--unit-timeout") }
        if let timeout, timeout <= 0 { throw StintError(.usage, "--unit-timeout must be more than 0") }

        let format = BatchConsole.Format(rawValue: global.output.rawValue) ?? .text
        let directory = FileManager.default.currentDirectoryPath
        let batch = Batch(
            command: ShellQuoting.join(command), target: "\(target) in \(directory)", units: units, options: options,
            store: CLIEnvironment.client, reporter: BatchConsole(format: format, progressEvery: progressEvery))
        let unitCommand = UnitCommand(command, environment: CLIEnvironment.environment, timeout: timeout)
        let summary = try await batch.run { unit in await unitCommand.run(unit) }
        batch.reporter?.finish(summary)
        if summary.exitCode != 0 { throw CLIExit(status: summary.exitCode) }
    }

    /// The units and how the checkpoint's key names them.
    private func unitsAndTarget() throws -> (BatchUnits, String) {
        let given = [range, ids, file].compactMap { $0 }
        guard given.count == 1 else {
            throw StintError(
                .usage, given.isEmpty ? "no units given" : "give the units one way only",
                hint: "use one of --range LO-HI, --ids LIST, --from FILE")
        }
        if let range {
            try ValueParsing.notNegative(range, flag: "--range")
            return (try BatchUnits.range(range), "range \(range)")
        }
        if let ids { return (try BatchUnits.ids(ids), "ids \(ids)") }
        let path = file!
        let text: String
        if path == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw StintError(.usage, "cannot read the unit file \(path)")
            }
            text = String(decoding: contents, as: UTF8.self)
        }
        let units = try BatchUnits.lines(text)
        // From stdin, the units themselves are the target; from a file, its absolute path.
        if path == "-", case .list(let items) = units.source { return (units, "ids " + items.joined(separator: ",")) }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        return (units, "file \(absolute)")
    }
}

struct BatchList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List batch checkpoints: where each batch would resume, and which run now.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let batches = try CLIEnvironment.client.batches()
        Output(format: global.output).emit(batches, ndjson: batches) {
            guard !batches.isEmpty else { return "no batch checkpoints" }
            var table = Table(header: ["ID", "STATE", "DONE", "FAILED", "RESUME AT", "UPDATED", "COMMAND", "UNITS"])
            for batch in batches {
                let state = batch.state == "running" ? "running (pid \(batch.holder?.pid ?? 0))" : "stopped" + (batch.stoppedBy.map { " (\($0))" } ?? "")
                let done = ProgressView(done: batch.completed, total: batch.total, message: nil, updatedAt: batch.updatedAt).text
                let cells = [
                    "\(batch.id)", state, done, "\(batch.failed)", batch.resumeFrom ?? (batch.completed == 0 ? "(start)" : "-"),
                    JobText.age(batch.updatedAt) + " ago", batch.command, batch.target,
                ]
                table.rows.append(cells.map { ($0, $0) })
            }
            return table.render(palette: Palette.stdout, width: terminalWidth())
        }
    }
}

struct BatchForget: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Delete batch checkpoints, so that those batches start over; a running batch's is refused.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Batch ids, as `stint batch ls` shows.")
    var ids: [String] = []

    @Flag(help: "Forget every batch that is not running.")
    var all = false

    func run() throws {
        let client = CLIEnvironment.client
        var numbers: [Int64] = []
        if all {
            guard ids.isEmpty else { throw StintError(.usage, "give ids or --all, not both") }
            numbers = try client.batches().filter { $0.state != "running" }.map(\.id)
        } else {
            guard !ids.isEmpty else { throw StintError(.usage, "no batch id given", hint: "see `stint batch ls`, or pass --all") }
            for text in ids {
                guard let id = Int64(text), id > 0 else { throw StintError(.usage, "not a batch id: '\(text)'", hint: "see `stint batch ls`") }
                numbers.append(id)
            }
        }
        let forgotten = numbers.isEmpty ? [] : try client.forgetBatches(numbers)
        Output(format: global.output).emit(forgotten, ndjson: forgotten) {
            forgotten.isEmpty ? "no batch to forget" : forgotten.map { "forgot batch \($0.id): \($0.command) (\($0.target))" }.joined(separator: "\n")
        }
    }
}
