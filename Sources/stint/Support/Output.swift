import ArgumentParser
import Foundation
import StintCore

/// `-o text|json|ndjson`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, ndjson

    /// The format given before the subcommand (`stint -o json ls`), set once in `main`.
    nonisolated(unsafe) static var rootDefault: OutputFormat = .text

    /// Removes a `-o FORMAT` given before the subcommand name and returns it.
    static func extractLeading(_ arguments: [String]) -> ([String], OutputFormat?) {
        var rest = arguments
        var format: OutputFormat?
        var index = 0
        while index < rest.count, rest[index].hasPrefix("-"), rest[index] != "--" {
            let argument = rest[index]
            if argument == "-o" || argument == "--output", index + 1 < rest.count,
                let parsed = OutputFormat(rawValue: rest[index + 1])
            {
                rest.removeSubrange(index...(index + 1))
                format = parsed
                continue
            }
            if let prefix = ["--output=", "-o="].first(where: { argument.hasPrefix($0) }),
                let parsed = OutputFormat(rawValue: String(argument.dropFirst(prefix.count)))
            {
                rest.remove(at: index)
                format = parsed
                continue
            }
            // `--session S` before the subcommand too; it is every command's option.
            if argument == "--session", index + 1 < rest.count {
                CLIEnvironment.sessionOption = rest[index + 1]
                rest.removeSubrange(index...(index + 1))
                continue
            }
            if argument.hasPrefix("--session=") {
                CLIEnvironment.sessionOption = String(argument.dropFirst("--session=".count))
                rest.remove(at: index)
                continue
            }
            index += 1
        }
        return (rest, format)
    }

    /// The format asked for on a command line, before (or without) a successful parse,
    /// so even a usage error is printed in the format the caller reads.
    static func sniff(_ arguments: [String]) -> OutputFormat {
        for (index, argument) in arguments.enumerated() {
            if argument == "--" { break }
            if argument == "-o" || argument == "--output", index + 1 < arguments.count {
                return OutputFormat(rawValue: arguments[index + 1]) ?? .text
            }
            for prefix in ["-o=", "--output=", "-o"] where argument.hasPrefix(prefix) && argument.count > prefix.count {
                if let format = OutputFormat(rawValue: String(argument.dropFirst(prefix.count))) { return format }
            }
        }
        return .text
    }
}

/// The options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("o"), .long], help: "Output format: text, json or ndjson.")
    var output: OutputFormat = OutputFormat.rootDefault

    @Option(
        help: ArgumentHelp(
            "Scope this command to a session: only its jobs are seen, waited on or stopped, and new jobs join it (default: $STINT_SESSION).",
            valueName: "S"))
    var session: String?

    mutating func validate() throws {
        if let session {
            try Session.validate(session)
            CLIEnvironment.sessionOption = session
        }
    }
}

/// Writes results to stdout and chatter to stderr, in the chosen format.
struct Output {
    let format: OutputFormat

    /// Prints `data` in the envelope (json), as lines plus `_meta` (ndjson), or as `text()`.
    func emit<T: Codable & Sendable>(_ data: T, ndjson rows: [any Encodable]? = nil, meta: [String: Int]? = nil, text: () -> String) {
        switch format {
        case .text:
            let rendered = text()
            if !rendered.isEmpty { Self.out(rendered.hasSuffix("\n") ? rendered : rendered + "\n") }
        case .json:
            Self.out(Self.encode(Envelope.ok(data)) + "\n")
        case .ndjson:
            var lines = ""
            for row in rows ?? [data] { lines += Self.encode(AnyEncodable(row)) + "\n" }
            lines += Self.encode(["_meta": meta ?? ["count": (rows ?? [data]).count]]) + "\n"
            Self.out(lines)
        }
    }

    /// Prints `error` (one line on stderr in text mode; the error envelope otherwise)
    /// and exits with its status.
    func fail(_ error: StintError) -> Never {
        switch format {
        case .text: Self.err("stint: \(error.description)\n")
        case .json, .ndjson: Self.out(Self.encode(Envelope<Empty>.failure(error)) + "\n")
        }
        exit(error.code.exitStatus)
    }

    /// One line of chatter on stderr (text mode only).
    func note(_ text: String) {
        if format == .text { Self.err(text + "\n") }
    }

    static func encode<T: Encodable>(_ value: T) -> String {
        String(decoding: (try? StintJSON.encoder().encode(value)) ?? Data(), as: UTF8.self)
    }

    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func err(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Lets heterogeneous rows go through one encoder.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
