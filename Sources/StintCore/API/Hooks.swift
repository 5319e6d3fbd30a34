import Foundation

/// The delivery channels of notifications: webhooks (`--notify URL`) and command hooks
/// (`--on-end CMD`), per job and per queue.
public enum Hooks {
    /// Checks a webhook address: an absolute `http` or `https` URL with a host.
    public static func validateURL(_ text: String) throws(StintError) {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty
        else {
            throw StintError(.usage, "--notify needs an http or https URL, not \(text)", hint: "for example --notify http://127.0.0.1:8080/hook")
        }
    }

    /// Checks a command hook: a non-empty shell string without NUL bytes.
    public static func validateCommand(_ text: String) throws(StintError) {
        guard !text.allSatisfy(\.isWhitespace) else { throw StintError(.usage, "--on-end needs a command") }
        guard !text.contains("\0") else { throw StintError(.usage, "--on-end contains a NUL byte") }
    }
}
