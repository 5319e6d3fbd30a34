import ArgumentParser
import Foundation
import StintBatch
import StintClient
import StintCore

/// An example of a Swift CLI that adopts the batch contract with `StintBatch`: checkpoints
/// in the stint daemon, `--max-failures`, SIGINT/SIGTERM handling, progress and the exit
/// codes 0/6/7/8/9 come from the library; the CLI only says what one unit does.
///
///     stint-batch-example --range 1-500 --fail-every 97 --delay 20ms
@main
struct StintBatchExample: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stint-batch-example",
        abstract: "Checks the numbers of a range for primality, as a resumable batch (an example of StintBatch).",
        discussion: """
            Needs a running stint daemon for its checkpoint and lock (`stint daemon status`), \
            unless --no-store. Exit codes: 0 all ok, 6 some units failed, 7 interrupted \
            (SIGINT/SIGTERM), 8 --max-failures consecutive failures, 9 the same batch runs elsewhere.
            """)

    @Option(help: ArgumentHelp("The numbers to check.", valueName: "LO-HI"))
    var range: String

    @Option(help: ArgumentHelp("Make every unit divisible by N fail, to see exit 6 and 8 (0: none).", valueName: "N"))
    var failEvery = 0

    @Option(help: ArgumentHelp("Time each unit takes.", valueName: "DUR"))
    var delay = "10ms"

    @Option(name: [.customShort("j"), .long], help: "Units at once.")
    var parallel = 1

    @Option(help: ArgumentHelp("Stop after N consecutive failures (0: never).", valueName: "N"))
    var maxFailures = 0

    @Option(help: ArgumentHelp("Start at this number.", valueName: "N"))
    var resumeFrom: String?

    @Option(name: .shortAndLong, help: "Output: text, json or ndjson.")
    var output = "text"

    @Flag(help: "Keep no checkpoint and take no lock (no daemon needed).")
    var noStore = false

    func run() async throws {
        guard let seconds = DurationParser.seconds(delay) else { throw ValidationError("invalid --delay: \(delay)") }
        guard let format = BatchConsole.Format(rawValue: output) else { throw ValidationError("invalid --output: \(output)") }
        var options = BatchOptions()
        options.parallel = parallel
        options.maxFailures = maxFailures
        options.start = resumeFrom.map { .resumeFrom($0) } ?? .checkpoint
        options.commandLine = CommandLine.arguments
        let client = StintClient(paths: StintPaths(environment: ProcessInfo.processInfo.environment), autostartExecutable: nil)
        let batch = Batch(
            command: "stint-batch-example primes", target: "range \(range)", units: try BatchUnits.range(range),
            options: options, store: noStore ? nil : client, reporter: BatchConsole(format: format))
        let failEvery = failEvery
        do {
            let summary = try await batch.run { unit in
                // One unit: whatever your CLI does for one item. Throwing or returning a
                // failure marks the unit failed; the library does the rest.
                let number = Int(unit.value)!
                try? await Task.sleep(for: .seconds(seconds))
                if failEvery > 0, number % failEvery == 0 { return .failure("\(number) is a multiple of \(failEvery)") }
                let prime = number > 1 && !(2..<max(2, Int(Double(number).squareRoot()) + 1)).contains { number % $0 == 0 && $0 != number }
                return UnitOutcome(ok: true, outputTail: "\(number) is \(prime ? "prime" : "not prime")")
            }
            batch.reporter?.finish(summary)
            throw ExitCode(summary.exitCode)
        } catch let error as StintError {
            FileHandle.standardError.write(Data("stint-batch-example: \(error)\n".utf8))
            throw ExitCode(error.code.exitStatus)
        }
    }
}
