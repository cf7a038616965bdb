import Glibc

/// The members of a JSON object this program wrote itself (a record: validated when its line was read,
/// then spliced), found without validating again: strings are skipped to their closing quote (a word
/// at first, then `memchr`), containers by counting brackets outside strings. The HTTP formats take a
/// record's nested values apart with it (its top level with `JSONScanner`, cheaper for a whole record).
/// Every index is bounds-checked: text that is not what we wrote gives false or odd ranges, never a crash.
/// It reports the scanner's `JSONScanner.Member`: the two differ in what they trust, not in what they find.
public enum RecordMembers {
    public typealias Member = JSONScanner.Member

    /// Calls `body` for each member of the object `bytes` holds; false when it is not an object.
    @inlinable @inline(__always)
    public static func forEach(_ bytes: UnsafeRawBufferPointer, _ body: (Member) -> Void) -> Bool {
        var index = skipSpace(bytes, 0)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return false }
        index = skipSpace(bytes, index + 1)
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") { return true }
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\""), let (keyEnd, escaped) = keyEnd(bytes, index) else { return false }
            let key = (index + 1)..<(keyEnd - 1)
            index = skipSpace(bytes, keyEnd)
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
            let start = skipSpace(bytes, index + 1)
            guard let end = valueEnd(bytes, start) else { return false }
            body(Member(key: key, keyIsEscaped: escaped, value: start..<end, valueIsString: bytes[start] == UInt8(ascii: "\"")))
            index = skipSpace(bytes, end)
            guard index < bytes.count else { return false }
            if bytes[index] == UInt8(ascii: "}") { return true }
            guard bytes[index] == UInt8(ascii: ",") else { return false }
            index = skipSpace(bytes, index + 1)
        }
        return false
    }

    /// Calls `body` with each element's range of the array `bytes` holds; false when it is not an array.
    package static func forEachElement(_ bytes: UnsafeRawBufferPointer, _ body: (Range<Int>) -> Void) -> Bool {
        var index = skipSpace(bytes, 0)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else { return false }
        index = skipSpace(bytes, index + 1)
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") { return true }
        while index < bytes.count {
            guard let end = valueEnd(bytes, index) else { return false }
            body(index..<end)
            index = skipSpace(bytes, end)
            guard index < bytes.count else { return false }
            if bytes[index] == UInt8(ascii: "]") { return true }
            guard bytes[index] == UInt8(ascii: ",") else { return false }
            index = skipSpace(bytes, index + 1)
        }
        return false
    }

    @inlinable @inline(__always)
    static func skipSpace(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> Int {
        var index = start
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0A || bytes[index] == 0x0D { index += 1 }
        return index
    }

    /// `stringEnd` of a key, and whether it holds a backslash: a key that ends within the word after
    /// its quote (most do) is told by that word alone.
    @inlinable @inline(__always)
    static func keyEnd(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> (end: Int, escaped: Bool)? {
        if let base = bytes.baseAddress, start + 9 <= bytes.count {
            let word = (base + start + 1).loadUnaligned(as: UInt64.self)
            let quotes = zeroBytes(word ^ 0x2222_2222_2222_2222)
            if quotes != 0 {
                // The bytes before the first quote: a backslash among them escapes it or another.
                let before = (quotes & (0 &- quotes)) &- 1
                if zeroBytes(word ^ 0x5C5C_5C5C_5C5C_5C5C) & before == 0 { return (start + 2 + quotes.trailingZeroBitCount / 8, false) }
            }
        }
        guard let end = stringEnd(bytes, start) else { return nil }
        return (end, UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<(end - 1)]).contains(UInt8(ascii: "\\")))
    }

    /// Just past the closing quote of the string opening at `start`.
    @inlinable @inline(__always)
    static func stringEnd(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        var index = start + 1
        while index < bytes.count {
            let quote: Int
            // Most strings are short keys and values: one word looked at before a call to memchr.
            if index + 8 <= bytes.count, case let quotes = zeroBytes((base + index).loadUnaligned(as: UInt64.self) ^ 0x2222_2222_2222_2222),
                quotes != 0
            {
                quote = index + quotes.trailingZeroBitCount / 8
            } else {
                guard let found = memchr(base + index, Int32(UInt8(ascii: "\"")), bytes.count - index) else { return nil }
                quote = UnsafeRawPointer(found) - base
            }
            // Escaped when an odd number of backslashes stands before it.
            var backslashes = 0
            while quote - backslashes - 1 > start, bytes[quote - backslashes - 1] == UInt8(ascii: "\\") { backslashes += 1 }
            if backslashes % 2 == 0 { return quote + 1 }
            index = quote + 1
        }
        return nil
    }

    /// The high bit of each zero byte of `word`, exact for the lowest (higher ones may be false
    /// positives past a zero byte, which only the lowest is read for).
    @inlinable @inline(__always)
    static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
    }

    /// Just past the value starting at `start`.
    @inlinable @inline(__always)
    static func valueEnd(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""): return stringEnd(bytes, start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var index = start
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard let end = stringEnd(bytes, index) else { return nil }
                    index = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                default: break
                }
                index += 1
            }
            return nil
        default:
            var index = start
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte <= 0x20 { break }
                index += 1
            }
            return index > start ? index : nil
        }
    }
}
