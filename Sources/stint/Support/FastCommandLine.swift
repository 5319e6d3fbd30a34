import StintClient
import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// `stint add`, `stint wait` and `stint --version` read by hand, without ArgumentParser.
///
/// They are the commands scripts and agents run by the hundred, and ArgumentParser's
/// reflection, with the protocol-conformance lookups under it, was about half of
/// `stint add`'s time. This reads only the argument shapes it fully understands and
/// answers exactly as the parsed commands do (``Add``, ``Wait``: the same specs, text,
/// errors and exit codes, through the same functions). Anything else — an unknown or
/// repeated option, help, a value that looks like an option, any value ArgumentParser or
/// the command would refuse, `-o json` — returns `nil`, and ArgumentParser reads the
/// command line as before, so it gives every error message.
enum FastCommandLine {
    /// Set to `1` to always take ArgumentParser's path: for tests that compare the two.
    static let disabledVariable = "STINT_CLI_NO_FAST_PATH"

    /// Arguments that make ArgumentParser print help or a version, wherever they are.
    private static let helpArguments: Set<String> = [
        "-h", "--help", "--version", "help", "--experimental-dump-help", "--generate-completion-script",
    ]

    /// What to run for `arguments` (after `main`'s leading `-o` and `--session`), or `nil`
    /// to parse them with ArgumentParser. Reading stays free of effects but one: a
    /// `--from -` reads standard input, which ``BatchFile`` keeps for the parser.
    static func command(_ arguments: [String], rootFormat: OutputFormat?) -> (() throws -> Void)? {
        if let flag = getenv(disabledVariable), String(cString: flag) == "1" { return nil }
        if arguments == ["--version"] {
            return { Output.out(StintVersion.current + "\n") }
        }
        guard let name = arguments.first, !arguments.contains(where: helpArguments.contains) else { return nil }
        var reader = OptionReader(arguments.dropFirst())
        switch name {
        case "add": return add(&reader, rootFormat: rootFormat)
        case "wait": return wait(&reader, rootFormat: rootFormat)
        default: return nil
        }
    }

    private static let addValueOptions: Set<String> = [
        "--cwd", "--env", "--label", "--timeout", "--output-cap", "--queue", "--priority", "--delay", "--at", "--after",
        "--unique", "--retries", "--retry-on", "--transient-pattern", "--backoff", "--stall-after", "--notify", "--on-end",
        "--from", "-o", "--output", "--session",
    ]

    private static let repeatableOptions: Set<String> = ["--env", "--label", "--after"]

    private static func add(_ reader: inout OptionReader, rootFormat: OutputFormat?) -> (() throws -> Void)? {
        var flags = JobFlags()
        var from: String?
        var printID = false
        var shell: String?
        var common = CommonOptions()
        var seen: Set<String> = []
        while let argument = reader.next() {
            switch argument {
            case .terminator(let rest):
                guard !rest.isEmpty, shell == nil, from == nil else { return nil }
                return addCommand(flags: flags, from: nil, argv: rest, shell: nil, printID: printID, common, rootFormat)
            case .positional(let text):
                guard shell == nil, !text.isEmpty else { return nil }
                shell = text
            case .flag("--hold"):
                guard !flags.hold else { return nil }
                flags.hold = true
            case .flag("-p"):
                guard !printID else { return nil }
                printID = true
            case .flag(let option):
                guard addValueOptions.contains(option), let value = reader.value(for: option) else { return nil }
                // ArgumentParser keeps the last of a repeated single option; leave that to it.
                guard repeatableOptions.contains(option) || seen.insert(option).inserted else { return nil }
                switch option {
                case "--cwd": flags.cwd = value
                case "--env": flags.env.append(value)
                case "--label": flags.labels.append(value)
                case "--timeout": flags.timeout = value
                case "--output-cap": flags.outputCap = value
                case "--queue": flags.queue = value
                case "--priority":
                    guard let number = Int(value) else { return nil }
                    flags.priority = number
                case "--delay": flags.delay = value
                case "--at": flags.at = value
                case "--after": flags.after.append(value)
                case "--unique": flags.unique = value
                case "--retries":
                    guard let number = Int(value) else { return nil }
                    flags.retries = number
                case "--retry-on": flags.retryOn = value
                case "--transient-pattern": flags.transientPattern = value
                case "--backoff": flags.backoff = value
                case "--stall-after": flags.stallAfter = value
                case "--notify": flags.notify = value
                case "--on-end": flags.onEnd = value
                case "--from": from = value
                default: guard common.take(option, value) else { return nil }
                }
            }
        }
        guard (from == nil) != (shell == nil) else { return nil }
        return addCommand(flags: flags, from: from, argv: [], shell: shell, printID: printID, common, rootFormat)
    }

    /// The `add` to run, once its specs are known to build; `nil` when they do not (the
    /// parsed command then reports why).
    private static func addCommand(
        flags: JobFlags, from: String?, argv: [String], shell: String?, printID: Bool, _ common: CommonOptions,
        _ rootFormat: OutputFormat?
    ) -> (() throws -> Void)? {
        guard common.acceptable(rootFormat) else { return nil }
        common.apply()
        let specs: [JobSpec]
        if let from {
            // NDJSON lines are read with Foundation's decoder (``JobLine``): the parsed path takes them.
            guard let data = try? BatchFile.contents(of: from), !BatchFile.lines(data).contains(where: { $0.hasPrefix("{") }),
                let read = try? BatchFile.specs(from: from, defaults: flags)
            else { return nil }
            specs = read
        } else {
            guard let spec = try? flags.spec(argv: argv.isEmpty ? nil : argv, shell: shell) else { return nil }
            specs = [spec]
        }
        return {
            let response = try CLIEnvironment.client.addWithoutFoundationJSON(specs)
            Output.emitText(Add.text(response, onlyIDs: printID || from != nil, held: flags.hold))
        }
    }

    private static func wait(_ reader: inout OptionReader, rootFormat: OutputFormat?) -> (() throws -> Void)? {
        var ids: [String] = []
        var timeout: String?
        var any = false
        var common = CommonOptions()
        while let argument = reader.next() {
            switch argument {
            case .terminator: return nil
            case .positional(let text): ids.append(text)
            case .flag("--any"):
                guard !any else { return nil }
                any = true
            case .flag(let option):
                guard let value = reader.value(for: option) else { return nil }
                if option == "--timeout" {
                    guard timeout == nil else { return nil }
                    timeout = value
                } else {
                    guard common.take(option, value) else { return nil }
                }
            }
        }
        guard !ids.isEmpty, common.acceptable(rootFormat), let parsed = try? ValueParsing.ids(ids) else { return nil }
        var seconds: Double?
        if let timeout {
            guard let value = try? ValueParsing.duration(timeout, flag: "--timeout") else { return nil }
            seconds = value
        }
        common.apply()
        return {
            let outcome = try CLIEnvironment.client.waitOutcome(parsed, any: any, timeout: seconds)
            Output.emitText(Wait.text(outcome))
            throw CLIExit(status: Wait.status(outcome, any: any))
        }
    }
}

/// `-o` and `--session` after the subcommand, as ``GlobalOptions`` takes them.
private struct CommonOptions {
    var format: OutputFormat?
    var session: String?

    /// Takes `-o`/`--output` (text only) or a valid `--session`, each once; `false` for
    /// anything else.
    mutating func take(_ option: String, _ value: String) -> Bool {
        switch option {
        case "-o", "--output":
            guard format == nil, let parsed = OutputFormat(rawValue: value) else { return false }
            format = parsed
            return true
        case "--session":
            guard session == nil, (try? Session.validate(value)) != nil else { return false }
            session = value
            return true
        default:
            return false
        }
    }

    /// Whether the command prints text, and `STINT_TIMEOUT` is valid (else the parsed
    /// command reports it).
    func acceptable(_ rootFormat: OutputFormat?) -> Bool {
        (format ?? rootFormat ?? .text) == .text && (try? CLIEnvironment.timeout()) != nil
    }

    /// What ``GlobalOptions/validate()`` does with a session.
    func apply() {
        if let session { CLIEnvironment.sessionOption = session }
    }
}

/// Splits arguments into options, positionals and what follows `--`.
private struct OptionReader {
    enum Argument {
        /// An argument starting with `-`.
        case flag(String)
        /// Any other argument before `--`.
        case positional(String)
        /// Everything after `--`.
        case terminator([String])
    }

    private var rest: ArraySlice<String>

    init(_ arguments: ArraySlice<String>) { rest = arguments }

    mutating func next() -> Argument? {
        guard let argument = rest.popFirst() else { return nil }
        if argument == "--" {
            defer { rest = [] }
            return .terminator(Array(rest))
        }
        return argument.hasPrefix("-") ? .flag(argument) : .positional(argument)
    }

    /// The value after `option`; `nil` when there is none, or it is empty or starts with
    /// `-` (ArgumentParser reads some of those as options and some as values: it decides).
    mutating func value(for option: String) -> String? {
        guard let value = rest.first, !value.isEmpty, !value.hasPrefix("-") else { return nil }
        rest.removeFirst()
        return value
    }
}
