#if canImport(Glibc)
    public import Glibc
#endif

/// glibc spawn extensions that Swift's Glibc module hides behind `_GNU_SOURCE`.
///
/// Both the daemon (starting shims) and the CLI (starting the daemon) need them, and
/// Core is the only module the two share. Without closing inherited descriptors, a
/// long-lived child keeps its parent's pipes and sockets open: a caller reading a
/// `stint add`'s output to EOF would then hang until the daemon exits.
public enum SpawnActions {
    /// `POSIX_SPAWN_SETSID` (glibc 2.26+): the child starts a new session.
    public static let setSessionFlag: Int32 = 0x80

    /// Adds "close every descriptor from `lowest` up" to `actions`
    /// (`posix_spawn_file_actions_addclosefrom_np`, glibc 2.34+).
    @discardableResult
    public static func closeDescriptors(from lowest: Int32, in actions: inout posix_spawn_file_actions_t) -> Bool {
        stint_posix_spawn_file_actions_addclosefrom_np(&actions, lowest) == 0
    }
}

/// Declared by name because Swift's Glibc module hides it; a `dlsym` lookup would find
/// nothing in the statically linked CLI.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func stint_posix_spawn_file_actions_addclosefrom_np(
    _ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ lowest: Int32
) -> Int32
