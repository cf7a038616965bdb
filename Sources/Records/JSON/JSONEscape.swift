/// JSON's two-character escapes (RFC 8259, section 7): the one table the scanner, the parser and the
/// unescaper read. `\u` escapes are `UnicodeEscape`'s.
public enum JSONEscape {
    /// The byte that a backslash followed by `letter` stands for; nil when that is no two-character escape.
    @inlinable @inline(__always)
    public static func decoded(_ letter: UInt8) -> UInt8? {
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return letter
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        default: return nil
        }
    }
}
