import CJSONClassify

/// The second stage: the grammar of RFC 8259 checked over the positions the first stage marked
/// (`lsc_json_classify`, in CJSONClassify), not over every byte. A position is a structural character
/// or quote outside a string's content, or the first byte of a number or literal. The first stage
/// classifies up to `chunkBlocks` blocks of 64 bytes at a time into `buffer`, and the walk takes their
/// positions in order: no list of positions is built.
///
/// Only for plain lines (`start` says whether a line is one); over those its verdicts are
/// `JSONScanner`'s byte by byte walk's, and `Fuzz/` (target `scanner`) holds the two to it.
@usableFromInline struct JSONStructure {
    @usableFromInline let base: UnsafeRawPointer
    @usableFromInline let count: Int
    /// The first stage's output: `chunkBlocks` position masks, then as many scalar masks.
    @usableFromInline let buffer: UnsafeMutablePointer<UInt64>
    /// Where the block `positions` belongs to starts.
    @usableFromInline var blockStart = -64
    /// The positions of the current block not yet taken.
    @usableFromInline var positions: UInt64 = 0
    /// The current block's bytes of numbers and literals: a number's length is the run of ones at its
    /// first byte.
    @usableFromInline var scalarBytes: UInt64 = 0
    /// The next block of `buffer` to take, and how many it holds.
    @usableFromInline var buffered = 0
    @usableFromInline var bufferedCount = 0
    /// The line's next block for the first stage, and what it carries from the block before.
    @usableFromInline var nextBlock = 0
    @usableFromInline var carry = lsc_json_carry()
    /// Where the members of each object that is a top-level member's value go; nil (most scans) for
    /// nowhere (`JSONScanner.scanObject(_:nested:member:)`).
    @usableFromInline var nested: UnsafeMutablePointer<NestedMembers>?

    /// 8 blocks: a line of up to 512 bytes (most) is classified in one call, into 128 bytes of stack
    /// that are zeroed for every line (16 blocks cost 0.3 % more on 188-byte lines, callgrind).
    @usableFromInline static let chunkBlocks = 8

    /// `buffer` holds `2 * chunkBlocks` masks.
    @inlinable init(base: UnsafeRawPointer, count: Int, buffer: UnsafeMutablePointer<UInt64>, nested: UnsafeMutablePointer<NestedMembers>? = nil) {
        (self.base, self.count, self.buffer, self.nested) = (base, count, buffer, nested)
    }

    @inlinable var blocks: Int { (count &+ 63) >> 6 }

    /// Classifies the first chunk; false when the line is not plain (a backslash, a control byte or
    /// one above 0x7F anywhere in it), and then the walk must not run. A line longer than one chunk
    /// is checked whole first: members reported before a later chunk found it was not would be
    /// reported again by the byte by byte walk.
    @inlinable
    mutating func start() -> Bool {
        let chunkBytes = Self.chunkBlocks &* 64
        if count > chunkBytes, lsc_json_is_plain(base.assumingMemoryBound(to: UInt8.self) + chunkBytes, count &- chunkBytes) == 0 {
            return false
        }
        return count == 0 || classifyChunk()
    }

    /// The first stage over the next chunk of blocks (at least one is left); false when a byte in it
    /// is not plain.
    @inlinable
    mutating func classifyChunk() -> Bool {
        let taken = min(Self.chunkBlocks, blocks &- nextBlock)
        let plain = lsc_json_classify(
            base.assumingMemoryBound(to: UInt8.self), count, nextBlock, taken, &carry, buffer, buffer + Self.chunkBlocks)
        nextBlock &+= taken
        (buffered, bufferedCount) = (0, taken)
        return plain != 0
    }

    /// The next position, or `count` when there is none.
    @inlinable @inline(__always)
    mutating func next() -> Int {
        while positions == 0 {
            guard nextBlockTaken() else { return count }
        }
        let position = blockStart &+ positions.trailingZeroBitCount
        positions &= positions &- 1
        return position
    }

    /// Moves on to the next block; false past the line's last.
    @inlinable
    mutating func nextBlockTaken() -> Bool {
        if buffered == bufferedCount {
            guard nextBlock < blocks else { return false }
            // The whole line was found plain in `start`.
            _ = classifyChunk()
        }
        positions = buffer[buffered]
        scalarBytes = buffer[Self.chunkBlocks &+ buffered]
        buffered &+= 1
        blockStart &+= 64
        return true
    }

    @inlinable @inline(__always)
    func byte(_ position: Int) -> UInt8 { position < count ? base.load(fromByteOffset: position, as: UInt8.self) : 0 }

    /// Whether a number or literal ending before `position` really ends there: what follows is not
    /// another byte of it (these lines hold no tab, CR or LF).
    @inlinable @inline(__always)
    func endsScalar(_ position: Int) -> Bool {
        guard position < count else { return true }
        switch base.load(fromByteOffset: position, as: UInt8.self) {
        case 0x20, UInt8(ascii: "\""), UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"),
            UInt8(ascii: "{"), UInt8(ascii: "}"):
            return true
        default: return false
        }
    }

    /// The whole line as one object between optional spaces, each top-level member reported. With
    /// `TrustedValues`, an object this program wrote itself (its line validated when it was read),
    /// whose values are skipped, not checked (`skipValue`); over a valid object the members are the
    /// same. A type, not a Boolean argument: each specialization has its branch folded away.
    @inlinable @inline(__always)
    mutating func scanObject<Values: ValueWalk>(_ values: Values.Type, _ member: (JSONScanner.Member) -> Void) -> JSONScanner.Object? {
        let start = next()
        guard byte(start) == UInt8(ascii: "{") else { return nil }
        var memberCount = 0
        var position = next()
        if byte(position) != UInt8(ascii: "}") {
            guard byte(position) == UInt8(ascii: "\"") else { return nil }
            // `position` is a key's opening quote at the top of each round.
            while true {
                // The key's closing quote and the value's first byte.
                let keyEnd: Int
                let valueStart: Int
                let first: UInt8
                if let group = takeKeyGroup() {
                    guard base.load(fromByteOffset: group.colon, as: UInt8.self) == UInt8(ascii: ":") else { return nil }
                    (keyEnd, valueStart) = (group.keyClose, group.value)
                    first = base.load(fromByteOffset: valueStart, as: UInt8.self)
                } else {
                    (keyEnd, valueStart) = keyAndValueAcrossBlocks()
                    guard valueStart >= 0 else { return nil }
                    first = byte(valueStart)
                }
                // Most values are strings: taken here without the call through `value`.
                let isString = first == UInt8(ascii: "\"")
                let valueEnd =
                    isString
                    ? stringEnd()
                    : Values.isTrusted
                        ? skipValue(at: valueStart)
                        : Values.recordsNested && byte(valueStart) == UInt8(ascii: "{")
                            ? recordingObject() : shortNumberEnd(at: valueStart) ?? value(at: valueStart, depth: 1)
                guard valueEnd >= 0 else { return nil }
                // The positions rise: the key's quotes are in order, as are the value's bounds, and their
                // ranges need no check (nor the count one of overflow).
                member(
                    JSONScanner.Member(
                        key: Range(uncheckedBounds: (position &+ 1, keyEnd)), keyIsEscaped: false,
                        value: Range(uncheckedBounds: (valueStart, valueEnd)),
                        valueIsString: isString))
                memberCount &+= 1
                // The separator and the next key's opening quote, both in the block (most): taken at once,
                // as the key's positions are.
                let separatorBit = positions
                let nextKeyBit = separatorBit & (separatorBit &- 1)
                if nextKeyBit != 0 {
                    position = blockStart &+ separatorBit.trailingZeroBitCount
                    let separator = base.load(fromByteOffset: position, as: UInt8.self)
                    if separator == UInt8(ascii: "}") {
                        positions = nextKeyBit
                        break
                    }
                    positions = nextKeyBit & (nextKeyBit &- 1)
                    position = blockStart &+ nextKeyBit.trailingZeroBitCount
                    guard separator == UInt8(ascii: ","), base.load(fromByteOffset: position, as: UInt8.self) == UInt8(ascii: "\"") else {
                        return nil
                    }
                    continue
                }
                position = next()
                let separator = byte(position)
                if separator == UInt8(ascii: "}") { break }
                guard separator == UInt8(ascii: ",") else { return nil }
                position = next()
                guard byte(position) == UInt8(ascii: "\"") else { return nil }
            }
        }
        guard next() == count else { return nil }
        return JSONScanner.Object(range: start..<(position + 1), memberCount: memberCount, needsRepair: false, isPlain: true)
    }

    /// After a key's opening quote (the last position taken), where the block's mask holds the next
    /// three positions (most keys): takes them at once and returns them, the key's closing quote, what
    /// must be the colon, and the value's first byte. Nil, with nothing taken, where it does not. This
    /// skips `next`'s tests of the block's end and the line's for each: a bit of the mask is always
    /// inside the line, and in a plain line the position after a string's opening quote is always its
    /// closing one.
    @inlinable @inline(__always)
    mutating func takeKeyGroup() -> (keyClose: Int, colon: Int, value: Int)? {
        let keyClose = positions
        let colon = keyClose & (keyClose &- 1)
        let value = colon & (colon &- 1)
        guard value != 0 else { return nil }
        positions = value & (value &- 1)
        return (blockStart &+ keyClose.trailingZeroBitCount, blockStart &+ colon.trailingZeroBitCount, blockStart &+ value.trailingZeroBitCount)
    }

    /// After a key's opening quote, the last position taken: its closing quote and the value's first
    /// byte after the colon, taken position by position where `takeKeyGroup` cannot take them; -1 as
    /// the value's when the colon is not there.
    @inlinable @inline(never)
    mutating func keyAndValueAcrossBlocks() -> (Int, Int) {
        let keyEnd = next()
        guard keyEnd < count, byte(next()) == UInt8(ascii: ":") else { return (0, -1) }
        return (keyEnd, next())
    }

    /// Just past the closing quote of the string whose opening quote was the last position taken, or -1
    /// when it has none: with no escapes, the next position is that quote.
    @inlinable @inline(__always)
    mutating func stringEnd() -> Int {
        // In the block (most): a position of its mask, inside the line.
        if positions != 0 {
            let close = blockStart &+ positions.trailingZeroBitCount
            positions &= positions &- 1
            return close &+ 1
        }
        let close = next()
        return close < count ? close &+ 1 : -1
    }

    /// The end of the value that starts at `position` (inside a container `depth` deep), or -1 when it
    /// is not one.
    @inlinable
    mutating func value(at position: Int, depth: Int) -> Int {
        switch byte(position) {
        case UInt8(ascii: "\""): return stringEnd()
        case UInt8(ascii: "{"): return container(close: UInt8(ascii: "}"), keyed: true, depth: depth + 1)
        case UInt8(ascii: "["): return container(close: UInt8(ascii: "]"), keyed: false, depth: depth + 1)
        case UInt8(ascii: "t"): return literal(at: position, "true")
        case UInt8(ascii: "f"): return literal(at: position, "false")
        case UInt8(ascii: "n"): return literal(at: position, "null")
        default: return number(at: position)
        }
    }

    /// The end of the value at `position` in a valid document, or -1 past the line's end: a container's
    /// brackets counted over its positions (a string's opening quote is followed by its closing one),
    /// a number's or literal's end where its run of scalar bytes ends.
    @inlinable
    mutating func skipValue(at position: Int) -> Int {
        switch byte(position) {
        case UInt8(ascii: "\""): return stringEnd()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 1
            while true {
                let at = next()
                guard at < count else { return -1 }
                switch byte(at) {
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return at + 1 }
                case UInt8(ascii: "\""): _ = next()
                default: break
                }
            }
        default:
            let offset = position &- blockStart
            var end = position &+ scalarRun(at: offset)
            // A run that reaches the block's end goes on in the next: read on byte by byte.
            if offset &+ (end &- position) >= 64 {
                while !endsScalar(end) { end &+= 1 }
            }
            return end
        }
    }

    /// How many of the current block's bytes from `offset` on belong to a number or literal (0 when
    /// the byte there is none); a run is cut at the block's end.
    @inlinable @inline(__always)
    func scalarRun(at offset: Int) -> Int { (~(scalarBytes >> UInt64(truncatingIfNeeded: offset))).trailingZeroBitCount }

    /// Never inlined: inlined into the enricher's scan, it left the scan's per-member closure a call of
    /// its own for every member.
    @inlinable @inline(never)
    mutating func container(close: UInt8, keyed: Bool, depth: Int) -> Int {
        walk(close: close, keyed: keyed, depth: depth, recording: false)
    }

    /// `container` for an object that is a top-level member's value, its members put into `nested`.
    /// Never inlined: inlined into the filters' scan, it made each member's step 50 instructions longer.
    @inlinable @inline(never)
    mutating func recordingObject() -> Int {
        walk(close: UInt8(ascii: "}"), keyed: true, depth: 2, recording: true)
    }

    /// The two above: `recording` is a constant in each, and the other's code is folded away.
    @inlinable @inline(__always)
    mutating func walk(close: UInt8, keyed: Bool, depth: Int, recording: Bool) -> Int {
        guard depth <= JSONScanner.maximumDepth else { return -1 }
        var position = next()
        if byte(position) == close { return position + 1 }
        while true {
            var keyQuote = 0
            var keyEnd = 0
            if keyed {
                guard byte(position) == UInt8(ascii: "\"") else { return -1 }
                keyQuote = position
                if let group = takeKeyGroup() {
                    guard base.load(fromByteOffset: group.colon, as: UInt8.self) == UInt8(ascii: ":") else { return -1 }
                    (keyEnd, position) = (group.keyClose &+ 1, group.value)
                } else {
                    let (keyClose, valueStart) = keyAndValueAcrossBlocks()
                    guard valueStart >= 0 else { return -1 }
                    (keyEnd, position) = (keyClose &+ 1, valueStart)
                }
            }
            // Strings, most values, without the call through `value`; in an object whose members are
            // recorded (the filters read them), short numbers too, as `scanObject` takes them.
            let isString = byte(position) == UInt8(ascii: "\"")
            let end: Int
            if isString {
                end = stringEnd()
            } else if recording, let short = shortNumberEnd(at: position) {
                end = short
            } else {
                end = value(at: position, depth: depth)
            }
            guard end >= 0 else { return -1 }
            if recording, let nested {
                nested.pointee.record(
                    JSONScanner.Member(
                        key: Range(uncheckedBounds: (keyQuote &+ 1, keyEnd &- 1)), keyIsEscaped: false,
                        value: Range(uncheckedBounds: (position, end)), valueIsString: isString))
            }
            // As in `scanObject`.
            let separatorBit = positions
            let nextBit = separatorBit & (separatorBit &- 1)
            if nextBit != 0 {
                position = blockStart &+ separatorBit.trailingZeroBitCount
                let separator = base.load(fromByteOffset: position, as: UInt8.self)
                if separator == close {
                    positions = nextBit
                    return position &+ 1
                }
                guard separator == UInt8(ascii: ",") else { return -1 }
                positions = nextBit & (nextBit &- 1)
                position = blockStart &+ nextBit.trailingZeroBitCount
                continue
            }
            position = next()
            let separator = byte(position)
            if separator == close { return position + 1 }
            guard separator == UInt8(ascii: ",") else { return -1 }
            position = next()
        }
    }

    @inlinable
    func literal(at position: Int, _ literal: StaticString) -> Int {
        let end = JSONScanner.literalEnd(base, count, from: position, literal)
        return end >= 0 && endsScalar(end) ? end : -1
    }

    /// The end of the number at `position` (the last position taken, in the current block) when it is
    /// a few digits, perhaps with a fraction, ending inside the block (most are): where the block's run
    /// of scalar bytes ends, its eight bytes checked at once. Nil for any other value, which `value`
    /// then reads; taken inline by `scanObject`, before the call through it.
    @inlinable @inline(__always)
    func shortNumberEnd(at position: Int) -> Int? {
        let offset = position &- blockStart
        // Not a scalar's first byte (an operator where a value should be): length 0. At the line's end
        // `offset` can be 64, which the masking shift takes as 0: the test of the run's end below fails.
        let length = (~(scalarBytes &>> UInt64(truncatingIfNeeded: offset))).trailingZeroBitCount
        let end = position &+ length
        if length > 0, length <= 8, offset &+ length < 64, end >= 8,
            Self.isShortNumber(base.loadUnaligned(fromByteOffset: end &- 8, as: UInt64.self), length: length)
        {
            return end
        }
        return nil
    }

    /// `position` is the last position taken, so it lies in the current block.
    @inlinable
    func number(at position: Int) -> Int {
        if let end = shortNumberEnd(at: position) { return end }
        let slowEnd = JSONScanner.numberEnd(base, count, from: position)
        return slowEnd >= 0 && endsScalar(slowEnd) ? slowEnd : -1
    }

    /// Whether the last `length` (1 to 8) bytes of `word` (the eight bytes that end where the number
    /// does, the first one lowest) are a whole number in RFC 8259's grammar without a sign or an
    /// exponent: digits, no leading zero, perhaps a point and more digits. False for anything else,
    /// which the byte by byte reader then decides. The bytes before the number are masked out, not
    /// shifted out: a shift fewer, and no case of its own for eight bytes.
    @inlinable @inline(__always)
    static func isShortNumber(_ word: UInt64, length: Int) -> Bool {
        // The bits of the bytes before the number: 0 to 56.
        let before = UInt64(truncatingIfNeeded: 64 &- 8 &* length)
        // No lane carries into the next: a plain line's bytes are below 0x80, so are they XORed with
        // 0x30, and adding 6 leaves them below 0x100. The lowest lane marked is the number's first
        // that is no digit.
        let notDigits = Self.notDigits(word ^ 0x3030_3030_3030_3030, lanes: ~UInt64(0) << before)
        let leadingZero = (word >> before) & 0xFF == 0x30
        if notDigits == 0 { return length == 1 || !leadingZero }
        // A point after the first digit and before the last byte, digits after it ("." carries nothing).
        let lane = notDigits.trailingZeroBitCount >> 3
        let point = lane &- Int(truncatingIfNeeded: before >> 3)
        guard point >= 1, point < length &- 1, (word >> UInt64(truncatingIfNeeded: 8 &* lane)) & 0xFF == 0x2E else { return false }
        return notDigits >> UInt64(truncatingIfNeeded: 8 &* (lane &+ 1)) == 0 && (!leadingZero || point == 1)
    }
}

extension JSONStructure {
    /// The lanes among `lanes` of `word` (ASCII bytes XORed with 0x30, the first one lowest) that are
    /// no digit, their high nibble set: a digit is 0x00-0x09 after the XOR, and adding 6 carries any
    /// other low nibble into the high one. Also RFC 3339's date and clock.
    @inlinable @inline(__always)
    static func notDigits(_ word: UInt64, lanes: UInt64) -> UInt64 {
        ((word &+ 0x0606_0606_0606_0606) | word) & 0xF0F0_F0F0_F0F0_F0F0 & lanes
    }
}

/// How `JSONStructure.scanObject` takes a value: checked against the grammar, or skipped.
/// With `recordsNested`, the members of a top-level member's object go to `nested` as well.
@usableFromInline protocol ValueWalk {
    static var isTrusted: Bool { get }
    static var recordsNested: Bool { get }
}

@usableFromInline enum CheckedValues: ValueWalk {
    @inlinable static var isTrusted: Bool { false }
    @inlinable static var recordsNested: Bool { false }
}

@usableFromInline enum TrustedValues: ValueWalk {
    @inlinable static var isTrusted: Bool { true }
    @inlinable static var recordsNested: Bool { false }
}

@usableFromInline enum CheckedRecordingValues: ValueWalk {
    @inlinable static var isTrusted: Bool { false }
    @inlinable static var recordsNested: Bool { true }
}

/// The members of the objects one level down that a scan found (`JSONScanner.scanObject(_:nested:member:)`),
/// each object's before the top-level member whose value it is: the filters find a nested field
/// (`user.name`) among them without walking its object again. Room for `capacity` members, which its
/// owner allocates; a line with more leaves it incomplete, as a line the byte by byte walk takes does.
public struct NestedMembers {
    public let members: UnsafeMutablePointer<JSONScanner.Member>
    public let capacity: Int
    public var count = 0
    /// Every such member of the line is here.
    public var isComplete = true

    public init(members: UnsafeMutablePointer<JSONScanner.Member>, capacity: Int) {
        (self.members, self.capacity) = (members, capacity)
    }

    @inlinable
    mutating func record(_ member: JSONScanner.Member) {
        guard count < capacity else {
            isComplete = false
            return
        }
        members[count] = member
        count &+= 1
    }

    @inlinable
    mutating func reset() {
        count = 0
        isComplete = true
    }
}
