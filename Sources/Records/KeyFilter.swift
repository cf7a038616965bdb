/// Which keys a set of keys can hold, told from a key's length and first byte without a comparison:
/// a bitmap of lengths, and one of (length, first byte) pairs hashed to 128 bits. Most keys miss one of
/// them, which is the answer for nearly every key. The enricher asks it about its fields' keys (and
/// "partial"), the remove filter about the keys it removes, the HTTP formats about the keys they lift
/// out of a record. A length and a first byte tested apart let through every key that shares a length
/// with one of them and a first byte with another (OTLP's nine let `seq` and `ms` through beside
/// `msg`); the pairs let through almost only the keys themselves.
/// Inlined into the enricher's and the filters' loops in other modules, as when they were one module.
public struct KeyFilter {
    @usableFromInline var lengths: UInt64 = 0
    /// The low seven bits of each key's `slot`: two words chosen between by a select, where four
    /// were loaded by index from the tuple's bytes, which copied the tuple to the stack at every test.
    @usableFromInline var pairs: (UInt64, UInt64) = (0, 0)

    /// A filter that lets no key through.
    package init() {}

    package init(_ keys: [[UInt8]]) {
        for key in keys {
            lengths |= Self.lengthBit(key.count)
            guard let first = key.first else { continue }
            let slot = Self.slot(key.count, first)
            let bit = UInt64(1) << UInt64(slot & 63)
            if slot & 64 == 0 { pairs.0 |= bit } else { pairs.1 |= bit }
        }
    }

    /// A length's bit is its value modulo 64 (the shift's own masking: lengths 64 apart share a bit, as
    /// a filter may). A count is never negative: converted without the check that would trap, which
    /// cost a test and a branch for every key in the scanners' loops.
    @inlinable @inline(__always)
    static func lengthBit(_ count: Int) -> UInt64 { 1 &<< UInt64(truncatingIfNeeded: count) }

    /// Where a length and a first byte fall among 256 slots (`KeyTable`, `FilterKeys`); `pairs` keeps
    /// the low seven bits. The length's low byte alone, without a cap (a compare and a move fewer for
    /// every member the scanners look up): lengths 256 apart share slots, which only costs a compare.
    @inlinable @inline(__always)
    package static func slot(_ count: Int, _ first: UInt8) -> UInt8 { first &+ UInt8(truncatingIfNeeded: count) &* 37 }

    /// False when no key has this length and first byte; `first` is not read for an empty key.
    @inlinable @inline(__always)
    public func mayMatch(_ count: Int, _ first: @autoclosure () -> UInt8) -> Bool {
        guard lengths & Self.lengthBit(count) != 0 else { return false }
        guard count > 0 else { return true }
        let slot = Self.slot(count, first())
        let word = slot & 64 == 0 ? pairs.0 : pairs.1
        return word & (1 &<< UInt64(slot & 63)) != 0
    }
}
