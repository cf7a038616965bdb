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
        guard let base = bytes.baseAddress else { return false }
        let count = bytes.count
        var index = skipSpace(base, count, 0)
        guard byte(base, count, index) == UInt8(ascii: "{") else { return false }
        index = skipSpace(base, count, index &+ 1)
        if byte(base, count, index) == UInt8(ascii: "}") { return true }
        while byte(base, count, index) == UInt8(ascii: "\"") {
            let (keyEnd, escaped) = keyEnd(base, count, index)
            guard keyEnd >= 0 else { return false }
            let key = Range(uncheckedBounds: (index &+ 1, keyEnd &- 1))
            index = skipSpace(base, count, keyEnd)
            guard byte(base, count, index) == UInt8(ascii: ":") else { return false }
            let start = skipSpace(base, count, index &+ 1)
            let end = valueEnd(base, count, start)
            guard end >= 0 else { return false }
            body(
                Member(
                    key: key, keyIsEscaped: escaped, value: Range(uncheckedBounds: (start, end)),
                    valueIsString: byte(base, count, start) == UInt8(ascii: "\"")))
            index = skipSpace(base, count, end)
            let separator = byte(base, count, index)
            if separator == UInt8(ascii: "}") { return true }
            guard separator == UInt8(ascii: ",") else { return false }
            index = skipSpace(base, count, index &+ 1)
        }
        return false
    }

    /// Calls `body` with each element's range of the array `bytes` holds; false when it is not an array.
    package static func forEachElement(_ bytes: UnsafeRawBufferPointer, _ body: (Range<Int>) -> Void) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let count = bytes.count
        var index = skipSpace(base, count, 0)
        guard byte(base, count, index) == UInt8(ascii: "[") else { return false }
        index = skipSpace(base, count, index &+ 1)
        if byte(base, count, index) == UInt8(ascii: "]") { return true }
        while index < count {
            let end = valueEnd(base, count, index)
            guard end >= 0 else { return false }
            body(index..<end)
            index = skipSpace(base, count, end)
            let separator = byte(base, count, index)
            if separator == UInt8(ascii: "]") { return true }
            guard separator == UInt8(ascii: ",") else { return false }
            index = skipSpace(base, count, index &+ 1)
        }
        return false
    }

    /// The byte at `index`, 0 past the end (no byte the walk looks for): every read is in bounds
    /// without a check that traps. Indices only rise from 0, so none is negative.
    @inlinable @inline(__always)
    static func byte(_ base: UnsafeRawPointer, _ count: Int, _ index: Int) -> UInt8 {
        index < count ? base.load(fromByteOffset: index, as: UInt8.self) : 0
    }

    /// Past the JSON whitespace from `start` (the first byte that is none, or `count`).
    @inlinable @inline(__always)
    static func skipSpace(_ base: UnsafeRawPointer, _ count: Int, _ start: Int) -> Int {
        var index = start
        while isSpace(byte(base, count, index)) { index &+= 1 }
        return index
    }

    /// Whether `byte` is JSON whitespace (space, tab, line feed, carriage return).
    @inlinable @inline(__always)
    package static func isSpace(_ byte: UInt8) -> Bool {
        // Most bytes here are no space: one comparison.
        byte <= 0x20 && (byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D)
    }

    /// `stringEnd` of a key, and whether it holds a backslash (-1: no end): a key that ends within the
    /// word after its quote (most do) is told by that word alone.
    @inlinable @inline(__always)
    static func keyEnd(_ base: UnsafeRawPointer, _ count: Int, _ start: Int) -> (end: Int, escaped: Bool) {
        if start &+ 9 <= count {
            let word = (base + (start &+ 1)).loadUnaligned(as: UInt64.self)
            let quotes = zeroBytes(word ^ 0x2222_2222_2222_2222)
            if quotes != 0 {
                // The bytes before the first quote: a backslash among them escapes it or another.
                let before = (quotes & (0 &- quotes)) &- 1
                if zeroBytes(word ^ 0x5C5C_5C5C_5C5C_5C5C) & before == 0 { return (start &+ 2 &+ quotes.trailingZeroBitCount &>> 3, false) }
            }
        }
        let end = stringEnd(base, count, start)
        guard end >= 0 else { return (-1, false) }
        return (end, memchr(base + (start &+ 1), Int32(UInt8(ascii: "\\")), end &- start &- 2) != nil)
    }

    /// Just past the closing quote of the string opening at `start`; -1 when it has none.
    @inlinable @inline(__always)
    static func stringEnd(_ base: UnsafeRawPointer, _ count: Int, _ start: Int) -> Int {
        var index = start &+ 1
        while index < count {
            let quote: Int
            // Most strings are short keys and values: two words looked at before a call to memchr.
            if index &+ 8 <= count, case let quotes = zeroBytes((base + index).loadUnaligned(as: UInt64.self) ^ 0x2222_2222_2222_2222),
                quotes != 0
            {
                quote = index &+ quotes.trailingZeroBitCount &>> 3
            } else if index &+ 16 <= count,
                case let quotes = zeroBytes((base + (index &+ 8)).loadUnaligned(as: UInt64.self) ^ 0x2222_2222_2222_2222), quotes != 0
            {
                quote = index &+ 8 &+ quotes.trailingZeroBitCount &>> 3
            } else {
                guard let found = memchr(base + index, Int32(UInt8(ascii: "\"")), count &- index) else { return -1 }
                quote = UnsafeRawPointer(found) - base
            }
            // Escaped when an odd number of backslashes stands before it.
            var backslashes = 0
            while quote &- backslashes &- 1 > start, byte(base, count, quote &- backslashes &- 1) == UInt8(ascii: "\\") { backslashes &+= 1 }
            if backslashes & 1 == 0 { return quote &+ 1 }
            index = quote &+ 1
        }
        return -1
    }

    /// Just past the string or number starting at `start` in `bytes` (-1 when there is none, or it is
    /// neither): for a writer that walks a value it knows the layout of (`OTLPTemplates`).
    @inlinable @inline(__always)
    public static func scalarEnd(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> Int {
        guard let base = bytes.baseAddress, start < bytes.count else { return -1 }
        switch base.load(fromByteOffset: start, as: UInt8.self) {
        case UInt8(ascii: "{"), UInt8(ascii: "["): return -1
        default: return valueEnd(base, bytes.count, start)
        }
    }

    /// Whether `bytes` (a string's content) holds a backslash, an escape: eight bytes at a time where
    /// there are eight, overlapping loads for the rest, all within `bytes`.
    @inlinable @inline(__always)
    public static func hasBackslash(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let count = bytes.count
        // Any zero byte after the XOR is a backslash (`zeroBytes` is exact for whether there is one).
        func marks(_ word: UInt64) -> UInt64 { zeroBytes(word ^ 0x5C5C_5C5C_5C5C_5C5C) }
        guard count >= 8 else {
            if count >= 4 {
                let word =
                    UInt64(base.loadUnaligned(as: UInt32.self)) | UInt64(base.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)) &<< 32
                return marks(word) != 0
            }
            for index in 0..<count where base.load(fromByteOffset: index, as: UInt8.self) == UInt8(ascii: "\\") { return true }
            return false
        }
        var at = 0
        while at &+ 8 <= count {
            if marks(base.loadUnaligned(fromByteOffset: at, as: UInt64.self)) != 0 { return true }
            at &+= 8
        }
        return at < count && marks(base.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)) != 0
    }

    /// The high bit of each zero byte of `word`, exact for the lowest (higher ones may be false
    /// positives past a zero byte, which only the lowest is read for).
    @inlinable @inline(__always)
    static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
    }

    /// Just past the value starting at `start`; -1 when there is none. Strings and scalars (nearly
    /// every value) are found inline; containers by a call.
    @inlinable @inline(__always)
    static func valueEnd(_ base: UnsafeRawPointer, _ count: Int, _ start: Int) -> Int {
        guard start < count else { return -1 }
        switch byte(base, count, start) {
        case UInt8(ascii: "\""): return stringEnd(base, count, start)
        case UInt8(ascii: "{"), UInt8(ascii: "["): return containerEnd(base, count, start)
        default:
            var index = start
            while index < count {
                let byte = byte(base, count, index)
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte <= 0x20 { break }
                index &+= 1
            }
            return index > start ? index : -1
        }
    }

    /// Just past the object or array starting at `start`: its brackets counted outside strings; -1 when
    /// it does not end within `count` bytes.
    @inlinable
    static func containerEnd(_ base: UnsafeRawPointer, _ count: Int, _ start: Int) -> Int {
        var depth = 0
        var index = start
        while index < count {
            switch byte(base, count, index) {
            case UInt8(ascii: "\""):
                let end = stringEnd(base, count, index)
                guard end >= 0 else { return -1 }
                index = end
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth &+= 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth &-= 1
                if depth == 0 { return index &+ 1 }
            default: break
            }
            index &+= 1
        }
        return -1
    }
}
