/// Writes arbitrary bytes as a JSON string literal: quotes, backslashes and control characters
/// escaped, invalid UTF-8 replaced by U+FFFD, so whatever a line held becomes valid JSON.
public enum JSONEscaper {
    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public static func appendQuoted(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
        bytes.withUnsafeBufferPointer { appendQuoted(UnsafeRawBufferPointer($0), to: &out) }
    }

    public static func appendQuoted(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var index = 0
        let count = bytes.count
        while index < count {
            // A run of printable ASCII other than the quote and the backslash needs nothing: one copy.
            var end = index
            while end < count {
                let byte = bytes[end]
                guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else { break }
                end += 1
            }
            if end > index {
                out.appendBytes(UnsafeRawBufferPointer(rebasing: bytes[index..<end]))
                index = end
                if index == count { break }
            }
            let byte = bytes[index]
            if byte >= 0x80 {
                let length = UTF8Validation.sequenceLength(bytes, at: index)
                if length == 0 {
                    out.append(contentsOf: replacement)
                    index += 1
                } else {
                    for offset in 0..<length { out.append(bytes[index + offset]) }
                    index += length
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0..<0x20, 0x7F:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
            index += 1
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// UTF-8 well-formedness (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
public enum UTF8Validation {
    /// Length of the valid sequence starting at `index` (a byte >= 0x80), or 0 when it is invalid.
    @inline(__always)
    public static func sequenceLength(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int {
        let count = bytes.count
        let lead = bytes[index]
        func continuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            index + offset < count && bytes[index + offset] >= low && bytes[index + offset] <= high
        }
        switch lead {
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }

    /// The largest prefix length <= `limit` that does not split a UTF-8 sequence.
    public static func boundary(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Int {
        if limit >= bytes.count { return bytes.count }
        var cut = limit
        // Step back over continuation bytes to the start of the sequence the limit falls in.
        while cut > 0 && cut > limit - 4 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
        if bytes[cut] & 0xC0 == 0x80 { return limit }  // not UTF-8 there anyway: cut at the limit
        return cut
    }
}
