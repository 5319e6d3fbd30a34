import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// `posix_spawn` attributes for a child that starts a session of its own, with every
/// signal at its default action and none blocked, whatever the daemon's threads block
/// or ignore: what shims and command hooks need.
enum SessionSpawn {
    /// Calls `body` with such attributes, destroyed afterwards.
    static func withAttributes<T>(_ body: (inout posix_spawnattr_t) throws -> T) rethrows -> T {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(
            &attributes, Int16(SpawnActions.setSessionFlag | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        return try body(&attributes)
    }
}
