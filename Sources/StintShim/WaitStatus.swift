/// Decodes a waitpid(2) status word. The WIFEXITED/WTERMSIG family are C macros that Swift
/// does not import, so this spells out the (Linux) encoding they use.
struct WaitStatus {
    let raw: Int32

    /// The exit status if the process exited normally.
    var exitCode: Int32? {
        raw & 0x7f == 0 ? (raw >> 8) & 0xff : nil
    }

    /// The signal that killed the process, if one did. (0x7f marks a stopped process, which
    /// never shows up here because the shim does not ask for WUNTRACED.)
    var terminatingSignal: Int32? {
        let signal = raw & 0x7f
        return signal != 0 && signal != 0x7f ? signal : nil
    }
}
