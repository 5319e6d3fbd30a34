import Glibc

/// The shim's own argv, byte for byte.
///
/// Read from /proc/self/cmdline rather than through `CommandLine`: the standard library's
/// lazy set-up of `CommandLine.unsafeArgv` lives in two stretches of code that nothing else
/// in the shim touches, and faulting them in costs about 125 KB of resident memory, a
/// noticeable share of the shim's budget. `CommandLine` remains the fallback should /proc be
/// unreadable.
enum ProcessArguments {
    /// (argc, argv) with argv NULL-terminated, like C's main receives them. The memory is
    /// never freed: like the real argv, it lives as long as the process.
    static func load() -> (argc: Int, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) {
        readProcCmdline() ?? (Int(CommandLine.argc), CommandLine.unsafeArgv)
    }

    /// /proc/self/cmdline holds every argument followed by a NUL.
    private static func readProcCmdline() -> (argc: Int, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>)? {
        let fd = open(StaticString("/proc/self/cmdline").cString, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }

        var capacity = 4096
        var length = 0
        guard var bytes = malloc(capacity)?.assumingMemoryBound(to: CChar.self) else { return nil }
        while true {
            if length == capacity {
                capacity *= 2
                guard let grown = realloc(bytes, capacity) else { return nil }
                bytes = grown.assumingMemoryBound(to: CChar.self)
            }
            let count = read(fd, bytes + length, capacity - length)
            if count < 0 && errno == EINTR { continue }
            if count < 0 { return nil }
            if count == 0 { break }
            length += count
        }
        guard length > 0, bytes[length - 1] == 0 else { return nil }

        var argc = 0
        for index in 0..<length where bytes[index] == 0 { argc += 1 }
        let argv = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: argc + 1)
        var start = 0
        var argument = 0
        for index in 0..<length where bytes[index] == 0 {
            argv[argument] = bytes + start
            argument += 1
            start = index + 1
        }
        argv[argc] = nil
        return (argc, argv)
    }
}
