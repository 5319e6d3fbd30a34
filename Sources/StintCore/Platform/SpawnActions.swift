#if canImport(Glibc)
    import Glibc
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
    /// (`posix_spawn_file_actions_addclosefrom_np`, glibc 2.34+). Returns `false` when
    /// this glibc lacks it.
    @discardableResult
    public static func closeDescriptors(from lowest: Int32, in actions: inout posix_spawn_file_actions_t) -> Bool {
        guard let addCloseFrom else { return false }
        return addCloseFrom(&actions, lowest) == 0
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()
}
