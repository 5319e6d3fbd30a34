extension StaticString {
    /// The literal as a C string, without going through String (see `TextBuffer` for why).
    /// The compiler stores string literals NUL-terminated, which the assertion double-checks.
    var cString: UnsafePointer<CChar> {
        assert(hasPointerRepresentation && utf8Start[utf8CodeUnitCount] == 0)
        return UnsafeRawPointer(utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
