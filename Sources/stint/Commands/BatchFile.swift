import Foundation
import StintCore

/// Reads `add --from FILE`: one job per line, a shell string or an NDJSON object.
enum BatchFile {
    /// One NDJSON line. Durations and sizes may be numbers or strings (`"10m"`, `"1MiB"`).
    private struct Line: Decodable {
        var command: String?
        var argv: [String]?
        var cwd: String?
        var env: [String: String]?
        var labels: [String: String]?
        var label: [String: String]?
        var session: String?
        var timeout: Flexible?
        var outputCap: Flexible?
        var hold: Bool?
    }

    private enum Flexible: Decodable {
        case number(Double)
        case text(String)
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) { self = .number(number) } else { self = .text(try container.decode(String.self)) }
        }
    }

    static func specs(from path: String, defaults: JobOptions) throws -> [JobSpec] {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw StintError(.usage, "cannot read --from file: \(path)")
            }
            data = contents
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        var specs: [JobSpec] = []
        for (index, rawLine) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let number = index + 1
            do {
                guard line.hasPrefix("{") else {
                    specs.append(try defaults.spec(argv: nil, shell: line))
                    continue
                }
                let object: Line
                do {
                    object = try decoder.decode(Line.self, from: Data(line.utf8))
                } catch {
                    throw StintError(.usage, "not a valid JSON object")
                }
                guard (object.command == nil) != (object.argv == nil) else {
                    throw StintError(.usage, "give exactly one of \"command\" (a shell string) and \"argv\"")
                }
                var spec = try defaults.spec(argv: object.argv, shell: object.command)
                if let cwd = object.cwd { spec.cwd = cwd }
                spec.env.merge(object.env ?? [:]) { $1 }
                spec.labels.merge(object.labels ?? object.label ?? [:]) { $1 }
                if let session = object.session { spec.session = session }
                switch object.timeout {
                case .number(let seconds): spec.timeout = seconds
                case .text(let text): spec.timeout = try ValueParsing.duration(text, flag: "timeout")
                case nil: break
                }
                switch object.outputCap {
                case .number(let bytes):
                    guard let exact = Int64(exactly: bytes.rounded(.up)) else {
                        throw StintError(.usage, "output_cap out of range: \(bytes)")
                    }
                    spec.outputCap = exact
                case .text(let text): spec.outputCap = try ValueParsing.size(text, flag: "output_cap")
                case nil: break
                }
                if let hold = object.hold { spec.hold = hold ? true : nil }
                try spec.validate()
                specs.append(spec)
            } catch let error as StintError {
                throw StintError(error.code, "line \(number) of \(path == "-" ? "standard input" : path): \(error.message)", hint: error.hint)
            }
        }
        guard !specs.isEmpty else { throw StintError(.usage, "no jobs in \(path == "-" ? "standard input" : path)") }
        return specs
    }
}
