import Glibc

/// An errno value captured at the point of failure, before later calls can overwrite it.
struct SystemError: Error {
    let code: Int32

    /// Captures the calling thread's current errno.
    static func current() -> SystemError { SystemError(code: errno) }

    /// The C library's text for the error, e.g. "No such file or directory". (The shim never
    /// calls setlocale, so this is always the untranslated English text.)
    var text: UnsafePointer<CChar> { UnsafePointer(strerror(code)) }
}
