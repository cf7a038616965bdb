/// logfmt (`level=info msg="user \"ann\" signed in" took=12ms cached`), as Go's go-logfmt and
/// Heroku's description read it: pairs separated by blanks, a value bare (up to the next blank) or
/// double-quoted with backslash escapes, a key without `=` a flag. Anything else is not logfmt.
package enum Logfmt {
    package enum Value: Equatable {
        /// `key`: true.
        case flag
        /// `key=value` (the range may be empty: `key=`).
        case bare(Range<Int>)
        /// `key="…"`: the range between the quotes, escapes still in.
        case quoted(Range<Int>)
    }

    package struct Pair: Equatable {
        package var key: Range<Int>
        package var value: Value
    }

    /// The pairs of `text` in order, into `pairs`; false when `text` is not logfmt (no pair at all, a
    /// key that begins with `=` or holds a quote, a quote left open, a quote inside a bare value).
    package static func parse(_ text: UnsafeRawBufferPointer, into pairs: inout [Pair]) -> Bool {
        pairs.removeAll(keepingCapacity: true)
        let count = text.count
        var index = 0
        while true {
            while index < count && isBlank(text[index]) { index += 1 }
            if index == count { return !pairs.isEmpty }
            let keyStart = index
            while index < count, !isBlank(text[index]), text[index] != UInt8(ascii: "=") {
                if text[index] == UInt8(ascii: "\"") { return false }
                index += 1
            }
            guard index > keyStart else { return false }
            let key = keyStart..<index
            guard index < count, text[index] == UInt8(ascii: "=") else {
                pairs.append(Pair(key: key, value: .flag))
                continue
            }
            index += 1
            if index < count && text[index] == UInt8(ascii: "\"") {
                index += 1
                let start = index
                while index < count && text[index] != UInt8(ascii: "\"") {
                    index += text[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard index < count else { return false }
                pairs.append(Pair(key: key, value: .quoted(start..<index)))
                index += 1
                // A closing quote ends the value: the next byte is a blank or the end.
                guard index == count || isBlank(text[index]) else { return false }
            } else {
                let start = index
                while index < count && !isBlank(text[index]) {
                    if text[index] == UInt8(ascii: "\"") || text[index] == UInt8(ascii: "=") { return false }
                    index += 1
                }
                pairs.append(Pair(key: key, value: .bare(start..<index)))
            }
        }
    }

    /// A quoted value's content decoded: `\"`, `\\`, `\n`, `\r`, `\t`, `\uXXXX`; any other escape is
    /// kept as written.
    package static func appendUnquoted(_ content: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var index = 0
        while index < content.count {
            let byte = content[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < content.count else {
                out.append(byte)
                index += 1
                continue
            }
            let escape = content[index + 1]
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(escape)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                if let decoded = UnicodeEscape.decode(content, hexAt: index + 2), !decoded.lone {
                    UnicodeEscape.appendUTF8(decoded.scalar, to: &out)
                    index += 2 + decoded.length
                    continue
                }
                out.append(contentsOf: [byte, escape])
            default: out.append(contentsOf: [byte, escape])
            }
            index += 2
        }
    }

    @inline(__always)
    static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
}
