import Foundation
import StintCore

/// Reads `add --from FILE`: one job per line, a shell string or an NDJSON object (``JobLine``).
enum BatchFile {
    /// Standard input once read: the fast path reads it to see whether it can take the
    /// lines, and the parsed command line must find the same lines when it cannot.
    nonisolated(unsafe) private static var standardInput: Data?

    /// The bytes of `path`, `-` for standard input (read once).
    static func contents(of path: String) throws(StintError) -> Data {
        if path == "-" {
            if let standardInput { return standardInput }
            let data = FileHandle.standardInput.readDataToEndOfFile()
            standardInput = data
            return data
        }
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw StintError(.usage, "cannot read --from file: \(path)")
        }
        return contents
    }

    /// The lines of `data` as ``specs(from:defaults:)`` reads them, trimmed.
    static func lines(_ data: Data) -> [String] {
        String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
    }

    static func specs(from path: String, defaults: JobFlags) throws -> [JobSpec] {
        let data = try contents(of: path)
        var specs: [JobSpec] = []
        // Shell lines differ only in the shell string: the rest (the environment, the
        // directory, the parsed flags) is built once, at the first of them.
        var shellTemplate: JobSpec?
        for (index, line) in lines(data).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            let number = index + 1
            do {
                guard line.hasPrefix("{") else {
                    if shellTemplate == nil { shellTemplate = try defaults.spec(argv: nil, shell: line) }
                    guard var spec = shellTemplate else { continue }
                    spec.shell = line
                    specs.append(spec)
                    continue
                }
                let object = try JobLine.parse(line)
                let base = try defaults.spec(argv: object.argv, shell: object.command)
                let spec = try object.applied(to: base, now: Date())
                try spec.validate()
                specs.append(spec)
            } catch {
                // Everything in the block throws StintError only.
                throw StintError(error.code, "line \(number) of \(path == "-" ? "standard input" : path): \(error.message)", hint: error.hint)
            }
        }
        guard !specs.isEmpty else { throw StintError(.usage, "no jobs in \(path == "-" ? "standard input" : path)") }
        return specs
    }
}
