import ArgumentParser
import Foundation
import StintCore

/// `-o text|json|ndjson`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, ndjson

    /// The format given before the subcommand (`stint -o json ls`), set once in `main`.
    nonisolated(unsafe) static var rootDefault: OutputFormat = .text

    /// Removes a `-o FORMAT` given before the subcommand name and returns it.
    ///
    /// A value that is no format is moved after the subcommand, so `stint -o yaml ls`
    /// fails with the same message as `stint ls -o yaml`.
    static func extractLeading(_ arguments: [String]) -> ([String], OutputFormat?) {
        var rest = arguments
        var format: OutputFormat?
        var invalid: [String] = []
        var index = 0
        while index < rest.count, rest[index].hasPrefix("-"), rest[index] != "--" {
            let argument = rest[index]
            if argument == "-o" || argument == "--output", index + 1 < rest.count {
                let value = rest[index + 1]
                rest.removeSubrange(index...(index + 1))
                if let parsed = OutputFormat(rawValue: value) { format = parsed } else { invalid = ["-o", value] }
                continue
            }
            if let value = attachedValue(argument) {
                rest.remove(at: index)
                if let parsed = OutputFormat(rawValue: value) { format = parsed } else { invalid = ["-o", value] }
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
        if !invalid.isEmpty { rest.insert(contentsOf: invalid, at: rest.firstIndex(of: "--") ?? rest.endIndex) }
        return (rest, format)
    }

    /// The value of `--output=F`, `-o=F` or `-oF`; `nil` for any other argument.
    private static func attachedValue(_ argument: String) -> String? {
        for prefix in ["--output=", "-o="] where argument.hasPrefix(prefix) {
            return String(argument.dropFirst(prefix.count))
        }
        if argument.hasPrefix("-o"), !argument.hasPrefix("--"), argument.count > 2 { return String(argument.dropFirst(2)) }
        return nil
    }

    /// Spells `-oFORMAT` and `-o=FORMAT` as `-o FORMAT`, which is what ArgumentParser
    /// reads (it would take `-ojson` for the flags `-o -j -s …`). Stops at `--`.
    static func splitAttached(_ arguments: [String]) -> [String] {
        var result: [String] = []
        for (index, argument) in arguments.enumerated() {
            if argument == "--" { return result + arguments[index...] }
            if argument.hasPrefix("-o"), !argument.hasPrefix("--"), argument.count > 2 {
                result += ["-o", String(argument.dropFirst(argument.hasPrefix("-o=") ? 3 : 2))]
            } else {
                result.append(argument)
            }
        }
        return result
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
    /// `metaObject`, when given, is the `_meta` object instead of `meta`.
    func emit<T: Codable & Sendable>(
        _ data: T, ndjson rows: [any Encodable]? = nil, meta: [String: Int]? = nil, metaObject: (any Encodable)? = nil,
        text: () -> String
    ) {
        switch format {
        case .text:
            Self.emitText(text())
        case .json:
            Self.out(Self.encode(Envelope.ok(data)) + "\n")
        case .ndjson:
            var lines = ""
            for row in rows ?? [data] { lines += Self.encode(AnyEncodable(row)) + "\n" }
            if let metaObject {
                lines += Self.encode(["_meta": AnyEncodable(metaObject)]) + "\n"
            } else {
                lines += Self.encode(["_meta": meta ?? ["count": (rows ?? [data]).count]]) + "\n"
            }
            Self.out(lines)
        }
    }

    /// Prints `rendered` as a text result: nothing when empty, else ending in a newline.
    static func emitText(_ rendered: String) {
        if !rendered.isEmpty { out(rendered.hasSuffix("\n") ? rendered : rendered + "\n") }
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
