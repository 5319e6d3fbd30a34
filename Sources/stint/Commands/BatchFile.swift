import Foundation
import StintCore

/// Reads `add --from FILE`: one job per line, a shell string or an NDJSON object (``JobLine``).
enum BatchFile {
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
