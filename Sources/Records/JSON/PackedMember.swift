/// A top-level member as a batch keeps it (`RecordBatch.members`): its four offsets from the record's
/// first byte in 32 bits each, the two flags in their top bits. 16 bytes against `JSONScanner.Member`'s
/// 48: the members go from batch to batch with their records, and a record has a dozen.
public struct PackedMember {
    @usableFromInline let keyStart: UInt32
    @usableFromInline let keyEnd: UInt32
    @usableFromInline let valueStart: UInt32
    @usableFromInline let valueEnd: UInt32

    @usableFromInline static let flag: UInt32 = 1 << 31

    /// The bound on a record's size for its members to be kept: `input.max_line_bytes` keeps lines
    /// below it, and a record longer (a line of 2 GiB) keeps none.
    package static let limit = Int(flag)

    /// `member` moved by `shift` bytes; its offsets, moved, are below `limit`.
    @inlinable package init(_ member: JSONScanner.Member, shift: Int) {
        keyStart = UInt32(truncatingIfNeeded: member.key.lowerBound &+ shift) | (member.keyIsEscaped ? Self.flag : 0)
        keyEnd = UInt32(truncatingIfNeeded: member.key.upperBound &+ shift)
        valueStart = UInt32(truncatingIfNeeded: member.value.lowerBound &+ shift) | (member.valueIsString ? Self.flag : 0)
        valueEnd = UInt32(truncatingIfNeeded: member.value.upperBound &+ shift)
    }

    @inlinable package var member: JSONScanner.Member {
        JSONScanner.Member(
            key: Int(keyStart & ~Self.flag)..<Int(keyEnd), keyIsEscaped: keyStart & Self.flag != 0,
            value: Int(valueStart & ~Self.flag)..<Int(valueEnd), valueIsString: valueStart & Self.flag != 0)
    }
}
