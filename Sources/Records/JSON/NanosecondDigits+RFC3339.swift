/// A record's RFC 3339 time written from its text: most records of a batch share their date and clock
/// with the one before, and in UTC their nanoseconds' digits are then the second's (kept) and the
/// fraction's own, zeros after them to nine. Reading the text as a number (`RFC3339.nanoseconds`) and
/// writing the number took some 290 instructions a record; this takes a few dozen.
extension NanosecondDigits {
    /// The nine digits after the second: the fraction's, then zeros, in memory order.
    public struct Fraction {
        @usableFromInline let word: UInt64
        @usableFromInline let ninth: UInt8

        @inlinable init(word: UInt64, ninth: UInt8) { (self.word, self.ninth) = (word, ninth) }

        /// The nine digits as a number: the first eight a word at a time (each step joins neighbouring
        /// lanes: pairs, then fours, then the eight; the first digit is the lowest byte), then the ninth.
        @inlinable var nanoseconds: UInt64 {
            var value = word & 0x0F0F_0F0F_0F0F_0F0F
            value = (value &* 2561) >> 8 & 0x00FF_00FF_00FF_00FF
            value = (value &* 6_553_601) >> 16 & 0x0000_FFFF_0000_FFFF
            value = (value &* 42_949_672_960_001) >> 32
            return value &* 10 &+ UInt64(ninth &- 0x30)
        }
    }

    /// The fraction of `text` (an RFC 3339 time, between its quotes) when its date and clock are those
    /// noted last (`note`), in UTC, with no fraction or one of one to nine digits; nil for any other
    /// text, which is then read as a number. Bytes are read within `text` only.
    @inlinable @inline(__always)
    public func fraction(_ text: UnsafeRawBufferPointer) -> Fraction? {
        guard hasClock, text.count >= 20, let base = text.baseAddress,
            base.loadUnaligned(as: UInt64.self) == clock.0, base.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == clock.1,
            base.loadUnaligned(fromByteOffset: 11, as: UInt64.self) == clock.2
        else { return nil }
        return Self.utcFraction(text)
    }

    /// The nine digits after the second of an RFC 3339 time whose text (`text`, at least its date and
    /// clock, which are not looked at) goes on in UTC with no fraction or one of one to nine digits;
    /// nil for any other ending. Bytes are read within `text` only.
    @inlinable @inline(__always)
    static func utcFraction(_ text: UnsafeRawBufferPointer) -> Fraction? {
        let count = text.count
        guard count >= 20, count <= 30, let base = text.baseAddress, base.load(fromByteOffset: count &- 1, as: UInt8.self) | 0x20 == UInt8(ascii: "z")
        else { return nil }
        let zeros: UInt64 = 0x3030_3030_3030_3030
        if count == 20 { return Fraction(word: zeros, ninth: 0x30) }
        // `.`, one to nine digits, the zone.
        let digits = count &- 21
        guard digits >= 1, base.load(fromByteOffset: 19, as: UInt8.self) == UInt8(ascii: ".") else { return nil }
        if digits == 9 {
            let word = base.loadUnaligned(fromByteOffset: 20, as: UInt64.self)
            let ninth = base.load(fromByteOffset: 28, as: UInt8.self)
            guard JSONStructure.notDigits(word ^ zeros, lanes: ~0) == 0, ninth &- 0x30 < 10 else { return nil }
            return Fraction(word: word, ninth: ninth)
        }
        // The eight bytes before the zone end with the digits: shifted down, they come first, and the
        // lanes above them are empty (a shift of 64 bits leaves none), made `0` by the digits' own bits.
        let tail = base.loadUnaligned(fromByteOffset: count &- 9, as: UInt64.self) >> UInt64(64 &- 8 &* digits)
        let lanes: UInt64 = (1 << UInt64(8 &* digits)) &- 1
        guard JSONStructure.notDigits(tail ^ zeros, lanes: lanes) == 0 else { return nil }
        return Fraction(word: tail | zeros, ninth: 0x30)
    }

    /// Appends the nanoseconds of a text `fraction` came from: the digits `append` writes for them.
    @inlinable @inline(__always)
    public func append<Output: ByteOutput>(_ fraction: Fraction, to out: inout Output) {
        // The second's digits as a piece padded to their sixteen bytes: one copy where there is room.
        let count = self.count
        withUnsafeBytes(of: digits) { out.appendPadded($0.baseAddress.unsafelyUnwrapped, count: count) }
        out.appendWord(fraction.word)
        out.append(fraction.ninth)
    }

    /// Notes that RFC 3339 `text` was read as `value` nanoseconds: its date and clock stand for its
    /// second from now on when it is in UTC (its last byte a `Z`: an offset ends in a digit) and past
    /// the first second of 1970 (written whole, `append`).
    public mutating func note(_ text: UnsafeRawBufferPointer, _ value: UInt64) {
        let second = value / 1_000_000_000
        guard second > 0, text.count >= 20, let base = text.baseAddress, text[text.count - 1] | 0x20 == UInt8(ascii: "z") else { return }
        if second != self.second { keep(second) }
        clock = (
            base.loadUnaligned(as: UInt64.self), base.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            base.loadUnaligned(fromByteOffset: 11, as: UInt64.self)
        )
        hasClock = true
    }
}
