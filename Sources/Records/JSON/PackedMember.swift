/// A top-level member as a batch keeps it (`RecordBatch.members`): its four offsets from the record's
/// first byte in 32 bits each, the three flags in their top bits. 16 bytes against `JSONScanner.Member`'s
/// 48: the members go from batch to batch with their records, and a record has a dozen.
public struct PackedMember {
    @usableFromInline let keyStart: UInt32
    @usableFromInline let keyEnd: UInt32
    @usableFromInline let valueStart: UInt32
    @usableFromInline let valueEnd: UInt32

    @usableFromInline static let flag: UInt32 = 1 << 31

    /// The bound on a record's size for its members to be kept: `input.max_line_bytes` keeps lines
    /// below it, and a record longer (a line of 2 GiB) keeps none.
    /// (Computed, so it folds to a constant: a stored `static let` was read through its accessor and
    /// `swift_once` for every record.)
    @inlinable package static var limit: Int { Int(flag) }

    /// `member` moved by `shift` bytes; its offsets, moved, are below `limit`. `enrichment`: one of
    /// the enricher's own fields, which it added after the application's members.
    @inlinable package init(_ member: JSONScanner.Member, shift: Int, enrichment: Bool = false) {
        keyStart = UInt32(truncatingIfNeeded: member.key.lowerBound &+ shift) | (member.keyIsEscaped ? Self.flag : 0)
        keyEnd = UInt32(truncatingIfNeeded: member.key.upperBound &+ shift) | (enrichment ? Self.flag : 0)
        valueStart = UInt32(truncatingIfNeeded: member.value.lowerBound &+ shift) | (member.valueIsString ? Self.flag : 0)
        valueEnd = UInt32(truncatingIfNeeded: member.value.upperBound &+ shift)
    }

    @inlinable init(keyStart: UInt32, keyEnd: UInt32, valueStart: UInt32, valueEnd: UInt32) {
        (self.keyStart, self.keyEnd, self.valueStart, self.valueEnd) = (keyStart, keyEnd, valueStart, valueEnd)
    }

    /// The member moved by `shift` bytes, its flags kept: its offsets, moved, are below `limit` (no
    /// carry reaches a flag, nor a borrow for a negative shift).
    @inlinable package func shifted(by shift: Int) -> PackedMember {
        let delta = UInt32(truncatingIfNeeded: shift)
        return PackedMember(keyStart: keyStart &+ delta, keyEnd: keyEnd &+ delta, valueStart: valueStart &+ delta, valueEnd: valueEnd &+ delta)
    }

    /// What a slot holds before a scan fills it.
    @inlinable package static var unset: Self { Self(keyStart: 0, keyEnd: 0, valueStart: 0, valueEnd: 0) }

    /// The key's bytes, between its quotes (as `JSONScanner.Member.key`). The offsets came from the
    /// scan in rising order, so the bounds are not checked again; a slice of the record still is.
    @inlinable public var key: Range<Int> { Range(uncheckedBounds: (Int(keyStart & ~Self.flag), Int(keyEnd & ~Self.flag))) }
    /// The value's JSON text.
    @inlinable public var value: Range<Int> { Range(uncheckedBounds: (Int(valueStart & ~Self.flag), Int(valueEnd))) }
    @inlinable public var keyIsEscaped: Bool { keyStart & Self.flag != 0 }
    @inlinable public var valueIsString: Bool { valueStart & Self.flag != 0 }
    /// One of the enricher's fields (see `init`): a member without the flag is the application's.
    @inlinable public var isEnrichment: Bool { keyEnd & Self.flag != 0 }

    @inlinable package var member: JSONScanner.Member {
        JSONScanner.Member(
            key: Int(keyStart & ~Self.flag)..<Int(keyEnd & ~Self.flag), keyIsEscaped: keyStart & Self.flag != 0,
            value: Int(valueStart & ~Self.flag)..<Int(valueEnd), valueIsString: valueStart & Self.flag != 0)
    }
}
