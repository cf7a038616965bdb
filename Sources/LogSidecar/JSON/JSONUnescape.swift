/// Decodes the content of a JSON string (already validated by `JSONScanner`) to its UTF-8 bytes.
/// Only keys with escapes and journald field values need it; the record path copies bytes as they are.
public enum JSONUnescape {
    public static func append(_ content: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var index = 0
        while index < content.count {
            let byte = content[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < content.count else {
                out.append(byte)
                index += 1
                continue
            }
            let escape = content[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = hex4(content, at: index)
                index += 4
                if (0xD800..<0xDC00).contains(code), index + 6 <= content.count, content[index] == UInt8(ascii: "\\"),
                    content[index + 1] == UInt8(ascii: "u")
                {
                    let low = hex4(content, at: index + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8)
            default: out.append(escape)
            }
        }
    }

    private static func hex4(_ bytes: UnsafeRawBufferPointer, at index: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 where index + offset < bytes.count {
            let byte = bytes[index + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: digit = byte &- UInt8(ascii: "A") &+ 10
            }
            value = value << 4 | UInt32(digit & 0xF)
        }
        return value
    }
}

/// Copies a validated object, replacing each byte sequence that is not UTF-8 with U+FFFD.
public enum JSONRepair {
    public static func append(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                out.append(byte)
                index += 1
                continue
            }
            let length = UTF8Validation.sequenceLength(bytes, at: index)
            if length == 0 {
                out.append(contentsOf: JSONEscaper.replacement)
                index += 1
            } else {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + length)]))
                index += length
            }
        }
    }
}
