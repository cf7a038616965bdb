/// Which lengths and first bytes a set of keys has, as bitmaps: a key that misses either cannot be one
/// of them, which is the answer for nearly every key, without a comparison. The enricher asks it about
/// its fields' keys (and "partial"), the remove filter about the keys it removes.
/// Inlined into the enricher's and the filters' loops in other modules, as when they were one module.
public struct KeyFilter {
    @usableFromInline var lengths: UInt64 = 0
    @usableFromInline var firstBytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    package init(_ keys: [[UInt8]]) {
        for key in keys {
            lengths |= Self.lengthBit(key.count)
            guard let first = key.first else { continue }
            let bit = UInt64(1) << UInt64(first & 63)
            switch first >> 6 {
            case 0: firstBytes.0 |= bit
            case 1: firstBytes.1 |= bit
            case 2: firstBytes.2 |= bit
            default: firstBytes.3 |= bit
            }
        }
    }

    /// Lengths of 63 bytes and more share the last bit.
    @inlinable @inline(__always)
    static func lengthBit(_ count: Int) -> UInt64 { 1 << UInt64(min(count, 63)) }

    /// False when no key has this length and first byte; `first` is not read for an empty key.
    @inlinable @inline(__always)
    public func mayMatch(_ count: Int, _ first: @autoclosure () -> UInt8) -> Bool {
        guard lengths & Self.lengthBit(count) != 0 else { return false }
        guard count > 0 else { return true }
        let byte = first()
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: return firstBytes.0 & bit != 0
        case 1: return firstBytes.1 & bit != 0
        case 2: return firstBytes.2 & bit != 0
        default: return firstBytes.3 & bit != 0
        }
    }
}
