/// The one reading of `\uXXXX` escapes that the scanner, the repair, the unescaper and the parser
/// share: a high surrogate followed by a `\u` low surrogate is one scalar; any other surrogate stands
/// alone and becomes U+FFFD, and the escape after it is read on its own (never swallowed).
@usableFromInline package enum UnicodeEscape {
    /// The four hex digits at `index` as a number; nil when they are not four hex digits.
    @usableFromInline package static func hex4(_ bytes: UnsafeRawBufferPointer, at index: Int) -> UInt32? {
        guard index >= 0, index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 {
            guard let digit = hexDigit(bytes[index + offset]) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// One hex digit's value (either case); nil for any other byte. Also the HTTP client's (chunk
    /// sizes, percent-escapes).
    @inlinable package static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Decodes the escape whose `u` is at `index` - 1, that is the hex digits start at `index`.
    /// Returns the scalar, the number of bytes after `index` it used (4, or 10 for a pair), and whether
    /// it was a lone surrogate; nil when the digits are not hex.
    @usableFromInline static func decode(_ bytes: UnsafeRawBufferPointer, hexAt index: Int) -> (scalar: Unicode.Scalar, length: Int, lone: Bool)? {
        guard let code = hex4(bytes, at: index) else { return nil }
        switch code {
        case 0xD800..<0xDC00:
            if index + 10 <= bytes.count, bytes[index + 4] == UInt8(ascii: "\\"), bytes[index + 5] == UInt8(ascii: "u"),
                let low = hex4(bytes, at: index + 6), (0xDC00..<0xE000).contains(low),
                let scalar = Unicode.Scalar(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
            {
                return (scalar, 10, false)
            }
            return ("\u{FFFD}", 4, true)
        case 0xDC00..<0xE000:
            return ("\u{FFFD}", 4, true)
        default:
            return (Unicode.Scalar(code) ?? "\u{FFFD}", 4, false)
        }
    }

    static func appendUTF8<Output: ByteOutput>(_ scalar: Unicode.Scalar, to out: inout Output) {
        guard let encoded = UTF8.encode(scalar) else { return }
        for byte in encoded { out.append(byte) }
    }
}
