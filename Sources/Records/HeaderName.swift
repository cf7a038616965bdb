extension Collection where Element == UInt8 {
    /// Whether these bytes are the header name or token `lowercase` in any case (HTTP's names and
    /// `Connection` options are case-insensitive): each byte with bit 0x20 set equals the name's. `lowercase` holds lowercase
    /// letters, digits and `-` only, for which that bit changes nothing or makes the lowercase letter.
    /// The health server's request heads and the plain-HTTP client's responses both read them so.
    @inlinable
    public func isHeaderName(_ lowercase: StaticString) -> Bool {
        guard count == lowercase.utf8CodeUnitCount else { return false }
        let expected = UnsafeRawBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        return zip(self, expected).allSatisfy { $0 | 0x20 == $1 }
    }
}
