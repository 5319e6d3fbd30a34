import Foundation
import MCP
import StintCore

/// The arguments of one tool call, read with types and bounds; every mistake is an
/// `E_USAGE` error that names the argument and says what it takes.
struct ToolArguments {
    let tool: String
    private let values: [String: Value]
    /// The properties of the tool's input schema: each argument's JSON type and description.
    private let properties: [String: Value]

    /// Wraps `values`, refusing names that are not among the tool's `properties` (a
    /// misspelt argument would otherwise be silently ignored).
    init(_ values: [String: Value]?, tool: String, properties: [String: Value]) throws(StintError) {
        self.tool = tool
        self.values = (values ?? [:]).filter { !$0.value.isNull }
        self.properties = properties
        let known = properties.keys.sorted()
        if let unknown = self.values.keys.sorted().first(where: { !known.contains($0) }) {
            throw StintError(
                .usage, "\(tool) takes no argument '\(unknown)'",
                hint: known.isEmpty ? "call it with no arguments" : "its arguments: \(known.joined(separator: ", "))")
        }
    }

    /// Whether the argument was given.
    func has(_ name: String) -> Bool { values[name] != nil }

    /// A string argument.
    func string(_ name: String) throws(StintError) -> String? {
        guard let value = values[name] else { return nil }
        guard let text = value.stringValue else { throw mistake(name, "must be a string") }
        return text
    }

    /// A string argument that must be given and not be empty.
    func requiredString(_ name: String) throws(StintError) -> String {
        guard let text = try string(name), !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw mistake(name, "is required")
        }
        return text
    }

    /// A number; numeric strings are accepted, as some clients send them.
    func number(_ name: String) throws(StintError) -> Double? {
        guard let value = values[name] else { return nil }
        let number: Double? =
            switch value {
            case .int(let integer): Double(integer)
            case .double(let double): double
            case .string(let text): Double(text.trimmingCharacters(in: .whitespaces))
            default: nil
            }
        guard let number, number.isFinite else { throw mistake(name, "must be a number") }
        return number
    }

    /// A whole number within `range`.
    func integer(_ name: String, in range: ClosedRange<Int64>) throws(StintError) -> Int64? {
        guard let number = try number(name) else { return nil }
        guard let integer = Int64(exactly: number), range.contains(integer) else {
            throw mistake(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return integer
    }

    /// A job id.
    func jobID(_ name: String = "id") throws(StintError) -> Int64 {
        guard let id = try integer(name, in: 1...Int64.max) else {
            throw mistake(name, "is required: the job id, as start_job or list_jobs return it")
        }
        return id
    }

    /// A duration: seconds as a number, or text such as `90`, `30s`, `10m`, `1h30m`, read
    /// as ``UserValue/duration(_:flag:)`` reads a flag's.
    func duration(_ name: String) throws(StintError) -> Double? {
        guard let value = values[name] else { return nil }
        if let text = value.stringValue {
            return try withToolName { () throws(StintError) in try UserValue.duration(text, flag: name) }
        }
        return try number(name)
    }

    /// `defaults` with the arguments but `excluded` applied as one line of `add --from`
    /// (``StintCore/JobLine``): they are that line's fields, under the same names and with
    /// the same values, so JobLine reads and applies them for this server as it does for
    /// the CLI. Each is held to the JSON type its schema gives first, so that a mistake
    /// names the argument; JobLine's errors, which name the field, are led by the tool's
    /// name.
    func jobSpec(_ defaults: JobSpec, applyingAllBut excluded: Set<String>) throws(StintError) -> JobSpec {
        let fields = values.filter { !excluded.contains($0.key) }
        for name in fields.keys.sorted() { try requireSchemaType(name) }
        guard let data = try? JSONEncoder().encode(fields) else {
            throw StintError(.internal, "\(tool): cannot encode its arguments as a job line")
        }
        return try withToolName { () throws(StintError) in
            try JobLine.parse(String(decoding: data, as: UTF8.self)).applied(to: defaults, now: Date())
        }
    }

    /// Refuses an argument whose JSON type is not the one its schema gives. The job-line
    /// fields the tools take are strings, and durations (`["number", "string"]`).
    private func requireSchemaType(_ name: String) throws(StintError) {
        let isDuration = properties[name]?.objectValue?["type"]?.arrayValue?.contains("number") == true
        switch values[name] {
        case .string?: return
        case .int?, .double?: if isDuration { return }
        default: break
        }
        throw mistake(name, isDuration ? "must be a number" : "must be a string")
    }

    /// `body`'s value; its error (a Core one, naming the field) led by the tool's name.
    private func withToolName<T>(_ body: () throws(StintError) -> T) throws(StintError) -> T {
        do {
            return try body()
        } catch {
            throw StintError(error.code, "\(tool): \(error.message)", hint: error.hint)
        }
    }

    /// A boolean.
    func bool(_ name: String) throws(StintError) -> Bool? {
        guard let value = values[name] else { return nil }
        guard let flag = Bool(value, strict: false) else { throw mistake(name, "must be true or false") }
        return flag
    }

    /// A list of strings; a single string is a one-element list, split at commas.
    func strings(_ name: String) throws(StintError) -> [String]? {
        guard let value = values[name] else { return nil }
        if let text = value.stringValue {
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        guard let items = value.arrayValue else { throw mistake(name, "must be a list of strings") }
        var result: [String] = []
        for item in items {
            guard let text = item.stringValue else { throw mistake(name, "must be a list of strings") }
            result.append(text)
        }
        return result
    }

    /// A list of positive ids; a single number is a one-element list.
    func ids(_ name: String) throws(StintError) -> [Int64]? {
        guard let value = values[name] else { return nil }
        let items = value.arrayValue ?? [value]
        var result: [Int64] = []
        for item in items {
            let number: Double? =
                switch item {
                case .int(let integer): Double(integer)
                case .double(let double): double
                case .string(let text): Double(text)
                default: nil
                }
            guard let number, let id = Int64(exactly: number), id > 0 else {
                throw mistake(name, "must be a list of positive ids")
            }
            result.append(id)
        }
        return result
    }

    /// An `E_USAGE` error about argument `name`.
    func mistake(_ name: String, _ problem: String, hint: String? = nil) -> StintError {
        StintError(.usage, "\(tool): '\(name)' \(problem)", hint: hint)
    }
}
