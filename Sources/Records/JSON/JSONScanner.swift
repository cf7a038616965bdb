import CJSONClassify

/// One pass over a record's bytes that validates JSON (RFC 8259) without building anything, and reports
/// the top-level members of an object as byte ranges. The enricher uses it to splice fields into the
/// application's own bytes; the journald sink uses it to map members to fields.
public struct JSONScanner {
    public struct Member: Equatable {
        /// The key's bytes between its quotes, still escaped when `keyIsEscaped`.
        public var key: Range<Int>
        public var keyIsEscaped: Bool
        /// The value's bytes, quotes included for a string.
        public var value: Range<Int>
        public var valueIsString: Bool

        public init(key: Range<Int>, keyIsEscaped: Bool, value: Range<Int>, valueIsString: Bool) {
            (self.key, self.keyIsEscaped, self.value, self.valueIsString) = (key, keyIsEscaped, value, valueIsString)
        }

        /// The key's length: `key.count` without its test for overflow (a branch for every member in
        /// the scanners' callbacks), which a range's bounds never need.
        @inlinable public var keyCount: Int { key.upperBound &- key.lowerBound }
    }

    public struct Object {
        /// From `{` to just after `}`.
        public var range: Range<Int>
        public var memberCount: Int
        /// Some string held bytes that are not UTF-8, or a `\u` escape of a lone surrogate: copy with
        /// `JSONRepair` before shipping.
        public var needsRepair: Bool
        /// The line was plain (`isPlain`: no backslash, no control byte, none above 0x7F), so the
        /// SIMD walk took it: each string's text is its bytes between the quotes.
        public var isPlain: Bool

        @inlinable init(range: Range<Int>, memberCount: Int, needsRepair: Bool, isPlain: Bool) {
            (self.range, self.memberCount, self.needsRepair, self.isPlain) = (range, memberCount, needsRepair, isPlain)
        }
    }

    // The scanner is inlined into its callers in other modules (the enricher's per-member closure is
    // specialized into the scan, as it was when they were one module): its state is usable from there.
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var index = 0
    @usableFromInline var depth = 0
    @usableFromInline var needsRepair = false
    @usableFromInline static let maximumDepth = 512

    @inlinable init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Validates `bytes` as one JSON object, surrounded by optional whitespace; nil when it is anything else.
    /// A line of printable ASCII without backslashes (most are) goes through the two stages of
    /// `lsc_json_classify` and `JSONStructure`, 64 bytes classified at a time; any other through the byte by
    /// byte walk below, which also reads escapes and UTF-8. The verdicts and members are the same.
    @inlinable @inline(__always)
    public static func scanObject(_ bytes: UnsafeRawBufferPointer, member: (Member) -> Void) -> Object? {
        scan(bytes, CheckedValues.self, member: member)
    }

    /// `scanObject`, also putting into `nested` the members of each object that is a top-level
    /// member's value (`NestedMembers`); `nested` is emptied first.
    @inlinable @inline(__always)
    public static func scanObject(_ bytes: UnsafeRawBufferPointer, nested: UnsafeMutablePointer<NestedMembers>, member: (Member) -> Void) -> Object? {
        scanObject(bytes, nestedIfAny: nested, member: member)
    }

    /// `scanObject(_:nested:member:)` when `nested` is given, else as `scanObject(_:member:)`: one copy
    /// of the scan for a caller that notes the nested members only for some lists of filters (the
    /// screen's, `FilterScreen`); the one above is this one with a store.
    @inlinable @inline(__always)
    public static func scanObject(
        _ bytes: UnsafeRawBufferPointer, nestedIfAny nested: UnsafeMutablePointer<NestedMembers>?, member: (Member) -> Void
    ) -> Object? {
        nested?.pointee.reset()
        return scan(bytes, CheckedRecordingValues.self, nested: nested, member: member)
    }

    /// `scanObject` for a record this program wrote itself (a line validated when it was read, the
    /// enrichment fields spliced in): on the SIMD path its values are skipped, not checked again. Over a
    /// valid object the members and the range are `scanObject`'s; the fuzz target `scanner` compares them.
    @inlinable @inline(__always)
    public static func scanTrustedObject(_ bytes: UnsafeRawBufferPointer, member: (Member) -> Void) -> Object? {
        scan(bytes, TrustedValues.self, member: member)
    }

    /// The two above: the SIMD stages for a plain line, taking its values as `Values` says; the byte
    /// by byte walk, which always checks, for any other.
    @inlinable @inline(__always)
    static func scan<Values: ValueWalk>(
        _ bytes: UnsafeRawBufferPointer, _ values: Values.Type, nested: UnsafeMutablePointer<NestedMembers>? = nil, member: (Member) -> Void
    ) -> Object? {
        guard let base = bytes.baseAddress else {
            nested?.pointee.isComplete = false
            return scanObjectBytewise(bytes, member: member)
        }
        // The first stage's masks, on the stack (`JSONStructure.chunkBlocks` of each kind): a vector
        // type only for its 128 zeroed bytes, made inline (an `InlineArray` was a call a line).
        var masks = SIMD16<UInt64>()
        return withUnsafeMutablePointer(to: &masks) { masks in
            var structure = JSONStructure(
                base: base, count: bytes.count, buffer: UnsafeMutableRawPointer(masks).assumingMemoryBound(to: UInt64.self), nested: nested)
            guard structure.start() else {
                nested?.pointee.isComplete = false
                return scanObjectBytewise(bytes, member: member)
            }
            return structure.scanObject(values, member)
        }
    }

    /// Whether `bytes` has no backslash, no byte below 0x20 (tab included) and none above 0x7F: the
    /// lines the SIMD walk takes.
    @inlinable
    package static func isPlain(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        return lsc_json_is_plain(base.assumingMemoryBound(to: UInt8.self), bytes.count) != 0
    }

    /// `scanObject` one byte at a time, for every line; the fuzz target `scanner` compares the two.
    @inlinable @inline(__always)
    package static func scanObjectBytewise(_ bytes: UnsafeRawBufferPointer, member: (Member) -> Void) -> Object? {
        var scanner = JSONScanner(bytes)
        scanner.skipWhitespace()
        let start = scanner.index
        guard scanner.peek == UInt8(ascii: "{"), let count = scanner.scanTopObject(member) else { return nil }
        let end = scanner.index
        scanner.skipWhitespace()
        guard scanner.index == bytes.count else { return nil }
        return Object(range: start..<end, memberCount: count, needsRepair: scanner.needsRepair, isPlain: false)
    }

    /// Validates `bytes` as one JSON array, nothing around it, reporting each element's range (the
    /// redact filter walks arrays with it).
    @inlinable
    public static func scanArray(_ bytes: UnsafeRawBufferPointer, element: (Range<Int>) -> Void) -> Bool {
        var scanner = JSONScanner(bytes)
        guard scanner.peek == UInt8(ascii: "[") else { return false }
        scanner.index = 1
        scanner.depth = 1
        scanner.skipWhitespace()
        if scanner.peek == UInt8(ascii: "]") { return scanner.index + 1 == bytes.count }
        while true {
            scanner.skipWhitespace()
            let start = scanner.index
            guard scanner.scanValue() else { return false }
            element(start..<scanner.index)
            scanner.skipWhitespace()
            guard let byte = scanner.peek else { return false }
            scanner.index += 1
            if byte == UInt8(ascii: "]") { return scanner.index == bytes.count }
            guard byte == UInt8(ascii: ",") else { return false }
        }
    }

    @inlinable var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    @inline(__always)
    @inlinable mutating func skipWhitespace() {
        var i = index
        let count = bytes.count
        while i < count {
            let byte = bytes[i]
            guard byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D else { break }
            i += 1
        }
        index = i
    }

    @inlinable @inline(__always)
    mutating func scanTopObject(_ member: (Member) -> Void) -> Int? {
        index += 1
        depth = 1
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
            return 0
        }
        var count = 0
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\""), let keyEscaped = scanString() else { return nil }
            let keyRange = keyStart..<(index - 1)
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { return nil }
            index += 1
            skipWhitespace()
            let valueStart = index
            let isString = peek == UInt8(ascii: "\"")
            guard scanValue() else { return nil }
            member(Member(key: keyRange, keyIsEscaped: keyEscaped, value: valueStart..<index, valueIsString: isString))
            count += 1
            skipWhitespace()
            guard let byte = peek else { return nil }
            index += 1
            if byte == UInt8(ascii: "}") { return count }
            guard byte == UInt8(ascii: ",") else { return nil }
        }
    }

    /// Start of the content of the string last scanned.
    @usableFromInline var keyStart = 0

    @inlinable mutating func scanValue() -> Bool {
        guard let byte = peek else { return false }
        switch byte {
        case UInt8(ascii: "\""): return scanString() != nil
        case UInt8(ascii: "{"): return scanContainer(close: UInt8(ascii: "}"), keyed: true)
        case UInt8(ascii: "["): return scanContainer(close: UInt8(ascii: "]"), keyed: false)
        case UInt8(ascii: "t"): return scanLiteral("true")
        case UInt8(ascii: "f"): return scanLiteral("false")
        case UInt8(ascii: "n"): return scanLiteral("null")
        default: return scanNumber()
        }
    }

    @inlinable mutating func scanContainer(close: UInt8, keyed: Bool) -> Bool {
        depth += 1
        defer { depth -= 1 }
        if depth > JSONScanner.maximumDepth { return false }
        index += 1
        skipWhitespace()
        if peek == close {
            index += 1
            return true
        }
        while true {
            skipWhitespace()
            if keyed {
                guard peek == UInt8(ascii: "\""), scanString() != nil else { return false }
                skipWhitespace()
                guard peek == UInt8(ascii: ":") else { return false }
                index += 1
                skipWhitespace()
            }
            guard scanValue() else { return false }
            skipWhitespace()
            guard let byte = peek else { return false }
            index += 1
            if byte == close { return true }
            guard byte == UInt8(ascii: ",") else { return false }
        }
    }

    @inlinable mutating func scanLiteral(_ literal: StaticString) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let end = JSONScanner.literalEnd(base, bytes.count, from: index, literal)
        guard end >= 0 else { return false }
        index = end
        return true
    }

    @inlinable mutating func scanNumber() -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let end = JSONScanner.numberEnd(base, bytes.count, from: index)
        guard end >= 0 else { return false }
        index = end
        return true
    }

    /// Scans a string starting at its opening quote; returns whether it had escapes, nil when invalid.
    /// The position lives in a local while scanning: the hot loop must not go through `self` in memory.
    @inline(__always)
    @inlinable mutating func scanString() -> Bool? {
        var i = index + 1
        keyStart = i
        defer { index = i }
        var escaped = false
        let count = bytes.count
        let base = bytes.baseAddress!
        while i < count {
            // Eight bytes at a time up to the first quote, backslash, control or non-ASCII byte.
            while i &+ 8 <= count {
                let special = JSONScanner.specialBytes(base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                if special == 0 {
                    i &+= 8
                } else {
                    i &+= special.trailingZeroBitCount >> 3
                    break
                }
            }
            if i >= count { break }
            let byte = base.load(fromByteOffset: i, as: UInt8.self)
            if byte == UInt8(ascii: "\"") {
                i += 1
                return escaped
            }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                guard i + 1 < count else { return nil }
                switch bytes[i + 1] {
                case let letter where JSONEscape.decoded(letter) != nil:
                    i += 2
                case UInt8(ascii: "u"):
                    guard i + 6 <= count else { return nil }
                    for offset in 2..<6 where !bytes[i + offset].isHexDigit { return nil }
                    // A surrogate is rare: only then is the pair checked (a lone one is repaired).
                    if bytes[i + 2] | 0x20 == UInt8(ascii: "d"), let decoded = UnicodeEscape.decode(bytes, hexAt: i + 2) {
                        if decoded.lone { needsRepair = true }
                        i += 2 + decoded.length
                    } else {
                        i += 6
                    }
                default:
                    return nil
                }
            } else if byte < 0x20 {
                return nil
            } else if byte >= 0x80 {
                let length = UTF8Validation.sequenceLength(bytes, at: i)
                if length == 0 {
                    needsRepair = true
                    i += 1
                } else {
                    i += length
                }
            } else {
                i &+= 1
            }
        }
        return nil
    }
}

extension JSONScanner {
    @usableFromInline static let ones: UInt64 = 0x0101_0101_0101_0101
    @usableFromInline static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each of the eight (little-endian) bytes that is `"`, `\\`, below 0x20 or above
    /// 0x7F (SWAR). Bits above the lowest may be false positives; the lowest set bit is exact.
    @inline(__always)
    @inlinable static func specialBytes(_ word: UInt64) -> UInt64 {
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl | word) & highs
    }
}

/// Numbers and literals, read the same way by both walks (the byte by byte one and `JSONStructure`):
/// from a pointer, the position in a local, so the walks' own state stays out of the loop.
extension JSONScanner {
    /// Just past the literal at `start` of the `count` bytes at `base`, or -1 when it is not there.
    @inlinable @inline(__always)
    static func literalEnd(_ base: UnsafeRawPointer, _ count: Int, from start: Int, _ literal: StaticString) -> Int {
        let length = literal.utf8CodeUnitCount
        guard start + length <= count else { return -1 }
        for offset in 0..<length where base.load(fromByteOffset: start + offset, as: UInt8.self) != literal.utf8Start[offset] {
            return -1
        }
        return start + length
    }

    /// Just past the number (RFC 8259's grammar) at `start`, or -1 when none starts there.
    @inlinable @inline(__always)
    static func numberEnd(_ base: UnsafeRawPointer, _ count: Int, from start: Int) -> Int {
        func byte(_ index: Int) -> UInt8 { index < count ? base.load(fromByteOffset: index, as: UInt8.self) : 0 }
        func digits(from start: Int) -> Int {
            var index = start
            while index < count, base.load(fromByteOffset: index, as: UInt8.self) &- UInt8(ascii: "0") < 10 { index &+= 1 }
            return index
        }
        var index = start
        if byte(index) == UInt8(ascii: "-") { index += 1 }
        let first = byte(index)
        guard first &- UInt8(ascii: "0") < 10 else { return -1 }
        index += 1
        if first != UInt8(ascii: "0") { index = digits(from: index) }
        if byte(index) == UInt8(ascii: ".") {
            let fraction = digits(from: index + 1)
            guard fraction > index + 1 else { return -1 }
            index = fraction
        }
        if byte(index) | 0x20 == UInt8(ascii: "e") {
            index += 1
            if byte(index) == UInt8(ascii: "+") || byte(index) == UInt8(ascii: "-") { index += 1 }
            let exponent = digits(from: index)
            guard exponent > index else { return -1 }
            index = exponent
        }
        return index
    }
}

extension UInt8 {
    @inlinable public var isHexDigit: Bool {
        (self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9")) || (self >= UInt8(ascii: "a") && self <= UInt8(ascii: "f"))
            || (self >= UInt8(ascii: "A") && self <= UInt8(ascii: "F"))
    }
}
