// `Builtin` (the compiler's own vector operations, `-enable-builtin-module` for this module only) is
// here for one reason: Swift's SIMD types compare 16 bytes in one instruction, but offer no way to
// turn the result into a bit mask (x86's `pmovmskb`, one instruction); spelled with public API, that
// step costs twelve. Nothing else in the module uses it.
import Builtin

/// The first stage of the scan, after simdjson's: 64 bytes classified at once, 16 per step with
/// Swift's SIMD types, into one bit a byte (bit i is byte i) for quotes, the six structural
/// characters and spaces. Only lines without backslashes, control bytes or bytes above 0x7F come here
/// (`JSONBlock.isPlain`): with no escapes, every quote opens or closes a string.
@usableFromInline struct JSONBlock {
    @usableFromInline var quotes: UInt64 = 0
    /// `{` `}` `[` `]` `:` `,`, inside strings or not.
    @usableFromInline var operators: UInt64 = 0
    @usableFromInline var spaces: UInt64 = 0

    /// The 64 bytes at `pointer`.
    @inlinable @inline(__always)
    init(_ pointer: UnsafeRawPointer) {
        add(pointer.loadUnaligned(as: SIMD16<UInt8>.self), at: 0)
        add(pointer.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self), at: 16)
        add(pointer.loadUnaligned(fromByteOffset: 32, as: SIMD16<UInt8>.self), at: 32)
        add(pointer.loadUnaligned(fromByteOffset: 48, as: SIMD16<UInt8>.self), at: 48)
    }

    /// The last `count` bytes of a line, fewer than 64, at `pointer`, as if spaces (which change
    /// nothing) followed them. `before` bytes before `pointer` belong to the line too (the line's
    /// length less `count`): when there are 64 of them in all, those are read and shifted out rather
    /// than the tail copied.
    @inlinable
    init(tail pointer: UnsafeRawPointer, count: Int, before: Int) {
        if before &+ count >= 64 {
            let shift = UInt64(64 &- count)
            let whole = JSONBlock(pointer - Int(shift))
            let beyond = ~UInt64(0) << UInt64(count)
            quotes = whole.quotes >> shift
            operators = whole.operators >> shift
            spaces = whole.spaces >> shift | beyond
        } else {
            var padded = SIMD64<UInt8>(repeating: 0x20)
            withUnsafeMutableBytes(of: &padded) { $0.baseAddress?.copyMemory(from: pointer, byteCount: count) }
            self = withUnsafeBytes(of: &padded) { JSONBlock($0.baseAddress ?? pointer) }
        }
    }

    @inlinable @inline(__always)
    mutating func add(_ bytes: SIMD16<UInt8>, at offset: UInt64) {
        // The vectors' types are spelled out: with the scalar type inferred, `.==` resolves to the
        // generic SIMD operator, which compares one lane at a time.
        let space = SIMD16<UInt8>(repeating: 0x20)
        // `{` and `[` differ from `}` and `]` in bit 0x20 alone: two comparisons find all four.
        let folded = bytes | space
        let structural =
            folded .== SIMD16<UInt8>(repeating: UInt8(ascii: "{")) .| folded .== SIMD16<UInt8>(repeating: UInt8(ascii: "}"))
            .| bytes .== SIMD16<UInt8>(repeating: UInt8(ascii: ":")) .| bytes .== SIMD16<UInt8>(repeating: UInt8(ascii: ","))
        quotes |= JSONBlock.bits(bytes .== SIMD16<UInt8>(repeating: UInt8(ascii: "\""))) << offset
        operators |= JSONBlock.bits(structural) << offset
        spaces |= JSONBlock.bits(bytes .== space) << offset
    }

    /// One bit per lane of a comparison's result, lane 0 the lowest.
    @inlinable @inline(__always)
    static func bits(_ mask: SIMDMask<SIMD16<Int8>>) -> UInt64 {
        let lanes = mask._storage._storage._value
        let set = Builtin.cmp_slt_Vec16xInt8(lanes, SIMD16<Int8>()._storage._value)
        return UInt64(UInt16(Builtin.bitcast_Vec16xInt1_Int16(set)))
    }

    /// Whether `bytes` has no backslash, no byte below 0x20 (tab included) and none above 0x7F: then
    /// every quote is a string's end, and the scan needs no escape or UTF-8 handling.
    @inlinable
    static func isPlain(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        guard count >= 16 else {
            for byte in bytes where byte < 0x20 || byte > 0x7F || byte == UInt8(ascii: "\\") { return false }
            return true
        }
        var unusual = SIMDMask<SIMD16<Int8>>(repeating: false)
        var index = 0
        while true {
            let lanes = base.loadUnaligned(fromByteOffset: index, as: SIMD16<Int8>.self)
            // Signed, a byte above 0x7F is below zero: one comparison finds it and the control bytes.
            unusual .|= lanes .< SIMD16<Int8>(repeating: 0x20) .| lanes .== SIMD16<Int8>(repeating: 0x5C)
            if index &+ 16 == count { break }
            // The last step overlaps the one before it rather than going byte by byte.
            index = min(index &+ 16, count &- 16)
        }
        return bits(unusual) == 0
    }
}
