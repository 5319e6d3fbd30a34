import Foundation
import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's state folder kept private: it holds every job's captured environment
/// (API keys included), its output and the API socket.
enum StateFolder {
    /// Sets the daemon's umask to 077, so that every file it (and every shim) creates is
    /// 0600 and every folder 0700; creates the folders; and refuses a state folder that
    /// other users can enter or read. Returns the umask the daemon was started with,
    /// which jobs start with.
    static func prepare(_ paths: StintPaths) throws -> mode_t {
        let inherited = umask(0o077)
        for folder in [paths.home, paths.logs, paths.run] {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        try checkPrivate(paths.home)
        return inherited
    }

    /// Throws `E_USAGE` naming the fix when `folder` is open to its group or to others.
    static func checkPrivate(_ folder: String) throws {
        // The folder itself, as stat(2) sees it: through a symbolic link to it.
        let target = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
        let permissions: Int
        do {
            permissions = try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int ?? 0
        } catch {
            throw StintError(.unavailable, "cannot read \(folder): \(error.localizedDescription)")
        }
        guard permissions & 0o077 == 0 else {
            let mode = String(permissions & 0o777, radix: 8)
            throw StintError(
                .usage,
                "the state folder \(folder) is open to other users (mode \(mode)); it holds every job's environment and output",
                hint: "run `chmod 700 \(folder)` and start the daemon again")
        }
    }
}
