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
        var queue: String?
        var priority: Int?
        var delay: Flexible?
        var at: String?
        var after: [Int64]?
        var unique: String?
        var retries: Int?
        var retryOn: [Int]?
        var transientPattern: String?
        var backoff: String?
        var stallAfter: Flexible?
        var notify: String?
        var onEnd: String?
    }

    private static func seconds(_ value: Flexible?, _ field: String) throws(StintError) -> Double? {
        switch value {
        case .number(let seconds): return seconds
        case .text(let text): return try ValueParsing.duration(text, flag: field)
        case nil: return nil
        }
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
                if let notify = object.notify { spec.notify = notify }
                if let onEnd = object.onEnd { spec.onEnd = onEnd }
                if let timeout = try seconds(object.timeout, "timeout") { spec.timeout = timeout }
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
                if let queue = object.queue { spec.queue = queue }
                if let priority = object.priority { spec.priority = priority }
                if let delay = try seconds(object.delay, "delay") { spec.delay = delay; spec.runAt = nil }
                if let at = object.at { spec.runAt = try ValueParsing.moment(at, flag: "at"); spec.delay = nil }
                if let after = object.after { spec.after = after }
                if let unique = object.unique { spec.unique = unique }
                if let retries = object.retries { spec.retries = retries }
                if let retryOn = object.retryOn { spec.retryOn = retryOn }
                if let pattern = object.transientPattern { spec.transientPattern = pattern }
                if let backoff = object.backoff {
                    (spec.backoffMin, spec.backoffMax) = try ValueParsing.backoff(backoff, flag: "backoff")
                }
                if let stallAfter = try seconds(object.stallAfter, "stall_after") { spec.stallAfter = stallAfter }
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
