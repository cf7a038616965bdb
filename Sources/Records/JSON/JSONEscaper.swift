import CJSONClassify

/// Writes arbitrary bytes as a JSON string literal: quotes, backslashes and control characters
/// escaped, invalid UTF-8 replaced by U+FFFD, so whatever a line held becomes valid JSON.
package enum JSONEscaper {
    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    package static func appendQuoted(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
        bytes.withUnsafeBufferPointer { appendQuoted(UnsafeRawBufferPointer($0), to: &out) }
    }

    /// The same into an array. A short value that needs no escaping (most parsed fields: a time, a
    /// level, a name) is found so in one word-wide pass and copied whole.
    package static func appendQuoted(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        if bytes.count <= 256 && isPlain(bytes) {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: bytes)
            out.append(UInt8(ascii: "\""))
            return
        }
        appendEscaped(bytes, to: &out)
    }

    /// Whether nothing in `bytes` needs escaping: printable ASCII without `"` and `\\`.
    @inline(__always)
    package static func isPlain(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var index = 0
        while index + 8 <= bytes.count {
            let word = (base + index).loadUnaligned(as: UInt64.self)
            if JSONScanner.specialBytes(word) | exactBytes(word, 0x7F) != 0 { return false }
            index += 8
        }
        // The last bytes of eight or more in one word that overlaps the ones checked.
        if index < bytes.count && bytes.count >= 8 {
            let word = (base + bytes.count - 8).loadUnaligned(as: UInt64.self)
            return JSONScanner.specialBytes(word) | exactBytes(word, 0x7F) == 0
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            index += 1
        }
        return true
    }

    package static func appendQuoted<Output: ByteOutput>(_ bytes: UnsafeRawBufferPointer, to out: inout Output) {
        appendEscaped(bytes, to: &out)
    }

    private static func appendEscaped<Output: ByteOutput>(_ bytes: UnsafeRawBufferPointer, to out: inout Output) {
        // Written into scratch space sized for the worst case (a control character takes six bytes) and
        // appended in one copy per chunk: a record full of quotes costs a byte store per byte, not an
        // array append per quote. Chunks keep the scratch small whatever the line's length.
        let chunk = 4096
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: min(bytes.count, chunk) * 6 + margin) { scratch in
            guard let target = scratch.baseAddress else { return }
            out.append(UInt8(ascii: "\""))
            var index = 0
            while index < bytes.count {
                let (written, next) = escape(bytes, from: index, to: min(bytes.count, index + chunk), into: target)
                out.appendBytes(UnsafeRawBufferPointer(start: target, count: written))
                index = next
            }
            out.append(UInt8(ascii: "\""))
        }
    }

    /// The same, escaped straight into the buffer's free space (Loki's lines, OTLP's bodies).
    /// When memory runs out nothing is appended (see `GrowableBytes.grow`).
    package static func appendQuoted(_ bytes: UnsafeRawBufferPointer, to out: inout GrowableBytes) {
        _ = out.appendWritten(maximum: bytes.count * 6 + 2 + margin) { space in
            guard let target = space.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
            target[0] = UInt8(ascii: "\"")
            let (written, _) = escape(bytes, from: 0, to: bytes.count, into: target + 1)
            target[written + 1] = UInt8(ascii: "\"")
            return written + 2
        }
    }

    /// Writes `bytes` quoted and escaped at `target`, which has room for `maximumQuoted(bytes.count)`
    /// bytes, and returns how many it wrote.
    @inline(__always)
    package static func writeQuoted(_ bytes: UnsafeRawBufferPointer, to target: UnsafeMutablePointer<UInt8>) -> Int {
        target[0] = UInt8(ascii: "\"")
        let (written, _) = escape(bytes, from: 0, to: bytes.count, into: target + 1)
        target[written + 1] = UInt8(ascii: "\"")
        return written + 2
    }

    /// The room `writeQuoted` may need for `count` bytes.
    package static func maximumQuoted(_ count: Int) -> Int { count * 6 + 2 + margin }

    /// Room past the worst case: a UTF-8 sequence may run three bytes past `end`, and the C loop's copies
    /// store 32 bytes whole.
    private static let margin = 32

    /// Escapes `bytes` from `start` on into `target` until at least `end`, and returns the bytes
    /// written and where it stopped (past `end` by at most a UTF-8 sequence).
    @inline(__always)
    private static func escape(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, into target: UnsafeMutablePointer<UInt8>)
        -> (written: Int, next: Int)
    {
        var written = 0
        @inline(__always) func put(_ byte: UInt8) {
            target[written] = byte
            written += 1
        }
        var index = start
        while index < end, let source = bytes.baseAddress {
            // Up to the next byte below 0x20, 0x7F or above, 32 bytes at a time (`lsc_json_escape_quotes`):
            // plain bytes copied, quotes and backslashes given their backslash. Room for it: the
            // callers' six bytes a byte and `margin`.
            var wrote = 0
            index &+= lsc_json_escape_quotes(source.assumingMemoryBound(to: UInt8.self) + index, end &- index, target + written, &wrote)
            written &+= wrote
            guard index < end else { break }
            // The byte it stopped at: a UTF-8 sequence's first, or a control character or DEL.
            let byte = bytes[index]
            if byte >= 0x80 {
                let length = UTF8Validation.sequenceLength(bytes, at: index)
                if length == 0 {
                    for replacementByte in replacement { put(replacementByte) }
                    index += 1
                } else {
                    for offset in 0..<length { put(bytes[index + offset]) }
                    index += length
                }
                continue
            }
            put(UInt8(ascii: "\\"))
            switch byte {
            case 0x0A: put(UInt8(ascii: "n"))
            case 0x0D: put(UInt8(ascii: "r"))
            case 0x09: put(UInt8(ascii: "t"))
            default:
                put(UInt8(ascii: "u"))
                put(UInt8(ascii: "0"))
                put(UInt8(ascii: "0"))
                put(hex[Int(byte >> 4)])
                put(hex[Int(byte & 0xF)])
            }
            index += 1
        }
        return (written, index)
    }

    private static let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    /// The high bit of each byte equal to `byte`, and of no other (no carry crosses a byte, unlike
    /// the subtraction in `specialBytes`, so every set bit is exact).
    @inline(__always)
    private static func exactBytes(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let difference = word ^ (0x0101_0101_0101_0101 &* UInt64(byte))
        return ~(((difference & lows) &+ lows) | difference | lows)
    }
}

/// UTF-8 well-formedness (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
@usableFromInline package enum UTF8Validation {
    /// Length of the valid sequence starting at `index` (a byte >= 0x80), or 0 when it is invalid.
    @inline(__always)
    @usableFromInline package static func sequenceLength(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int {
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
    package static func boundary(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Int {
        if limit >= bytes.count { return bytes.count }
        var cut = limit
        // Step back over continuation bytes to the start of the sequence the limit falls in.
        while cut > 0 && cut > limit - 4 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
        if bytes[cut] & 0xC0 == 0x80 { return limit }  // not UTF-8 there anyway: cut at the limit
        return cut
    }
}
