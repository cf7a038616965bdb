import Records

/// The writing half of `OTLPTemplates`: a record's attributes from the template its layout matched.
extension OTLPTemplates {
    /// Appends template `slot`'s attributes with `record`'s values (its members `members`), as
    /// `AnyValueWriter.appendKeyValue` writes each, with a comma between them: a string or a number
    /// of the template's kind after its prefix, inline; the rest through `appendOther`.
    @inline(never)
    func appendAttributes<Output: ByteOutput>(
        _ slot: Int, _ record: UnsafeRawBufferPointer, _ members: RecordReader.MemberView, to out: inout Output
    ) {
        let prefixes = prefixes.baseAddress.unsafelyUnwrapped
        // A local copy: the position stays in a register between the appends, where `out` itself was
        // stored back after each one.
        var local = out
        defer { out = local }
        for attribute in attributes(slot) {
            let value = UnsafeRawBufferPointer(rebasing: record[members[Int(attribute.member)].value])
            let prefix = prefixes + Int(attribute.prefixStart)
            switch attribute.kind {
            case .string where value.first == UInt8(ascii: "\""):
                local.appendPadded(prefix, count: Int(attribute.prefixCount))
                local.appendBytes(value)
                local.appendLiteral("}}")
            case .int where Self.isNumber(value) && AnyValueWriter.NumberShape(value).isInt64:
                local.appendPadded(prefix, count: Int(attribute.prefixCount))
                local.appendBytes(value)
                local.appendLiteral("\"}}")
            case .double where Self.isNumber(value) && AnyValueWriter.isPlainDouble(AnyValueWriter.NumberShape(value), value):
                local.appendPadded(prefix, count: Int(attribute.prefixCount))
                local.appendBytes(value)
                local.appendLiteral("}}")
            default: appendOther(attribute, record, members[Int(attribute.member)].value, to: &local)
            }
        }
    }

    /// Whether `value` starts as a number does.
    @inline(__always)
    private static func isNumber(_ value: UnsafeRawBufferPointer) -> Bool {
        guard let first = value.first else { return false }
        return AnyValueWriter.startsNumber(first)
    }

    /// An `object` attribute with its value at `range` of `record`, when the value has the object's
    /// layout and its members' kinds: checked first (each piece's bytes, each value's end and kind),
    /// then written; false, with nothing written, when it has not. The ends are looked for in the
    /// record, not the value alone: a word read past a short string's quote stays within it.
    @inline(__always)
    private func appendObject<Output: ByteOutput>(
        _ attribute: Attribute, _ record: UnsafeRawBufferPointer, _ range: Range<Int>, to out: inout Output
    ) -> Bool {
        guard let base = record.baseAddress, let layout = objectLayout.baseAddress, let prefixes = prefixes.baseAddress else { return false }
        let members = UnsafeBufferPointer(rebasing: objectMembers[Int(attribute.objectStart)..<Int(attribute.objectStart + attribute.objectCount)])
        let limit = range.upperBound
        var at = range.lowerBound
        for (index, member) in members.enumerated() {
            let length = Int(member.pieceCount)
            guard limit &- at > length, ShortCompare.equal(base + at, layout + Int(member.pieceStart), length) else { return false }
            let start = at &+ length
            let end: Int
            switch member.kind {
            case .string:
                guard base.load(fromByteOffset: start, as: UInt8.self) == UInt8(ascii: "\"") else { return false }
                end = RecordMembers.scalarEnd(record, start)
            case .int:
                end = Self.intEnd(base, limit, start)
            case .double:
                end = RecordMembers.scalarEnd(record, start)
                guard end > start, case let inner = UnsafeRawBufferPointer(rebasing: record[start..<end]), Self.isNumber(inner),
                    AnyValueWriter.isPlainDouble(AnyValueWriter.NumberShape(inner), inner)
                else { return false }
            case .any, .object: return false
            }
            // An end past the object's, or a number that goes on past the digits found (a fraction, an
            // exponent), fails the next piece's comparison: a piece starts with a comma, a space or
            // the closing brace.
            guard end > start else { return false }
            objectEnds[index] = end
            at = end
        }
        let tail = Int(attribute.tailCount)
        guard limit &- at == tail, ShortCompare.equal(base + at, layout + Int(attribute.tailStart), tail) else { return false }
        out.appendPadded(prefixes + Int(attribute.prefixStart), count: Int(attribute.prefixCount))
        at = range.lowerBound
        for (index, member) in members.enumerated() {
            let end = objectEnds[index]
            out.appendPadded(prefixes + Int(member.prefixStart), count: Int(member.prefixCount))
            out.appendBytes(UnsafeRawBufferPointer(rebasing: record[(at &+ Int(member.pieceCount))..<end]))
            if member.kind == .int { out.appendLiteral("\"}}") } else { out.appendLiteral("}}") }
            at = end
        }
        out.appendLiteral("]}}}")
        return true
    }

    /// Just past the digits of the integer at `start` (a minus and up to 18 digits: it fits 64 bits),
    /// before `limit`; -1 when there are none or more. The digits are found a word at a time where
    /// eight bytes are there to read. (What follows is the caller's to check.)
    @inline(__always)
    static func intEnd(_ base: UnsafeRawPointer, _ limit: Int, _ start: Int) -> Int {
        var at = start
        if at < limit, base.load(fromByteOffset: at, as: UInt8.self) == UInt8(ascii: "-") { at &+= 1 }
        let digits = at
        if at &+ 8 <= limit {
            // A byte that is no digit: 0x30 off, it is 10 or more, and adding 0x76 sets its high bit (a
            // carry out of it marks only bytes after the first).
            let word = base.loadUnaligned(fromByteOffset: at, as: UInt64.self) ^ 0x3030_3030_3030_3030
            let marks = ((word &+ 0x7676_7676_7676_7676) | word) & 0x8080_8080_8080_8080
            at &+= marks == 0 ? 8 : marks.trailingZeroBitCount &>> 3
        }
        while at < limit, base.load(fromByteOffset: at, as: UInt8.self) &- 0x30 < 10 { at &+= 1 }
        guard at > digits, at &- digits <= 18 else { return -1 }
        return at
    }

    /// `appendAttributes` of any value after `.any`'s prefix, and of a value of another kind than the
    /// template's (the key-value written whole).
    @inline(never)
    private func appendOther<Output: ByteOutput>(
        _ attribute: Attribute, _ record: UnsafeRawBufferPointer, _ range: Range<Int>, to out: inout Output
    ) {
        if attribute.kind == .object, appendObject(attribute, record, range, to: &out) { return }
        let value = UnsafeRawBufferPointer(rebasing: record[range])
        if attribute.kind == .any {
            out.appendPadded(prefixes.baseAddress.unsafelyUnwrapped + Int(attribute.prefixStart), count: Int(attribute.prefixCount))
            AnyValueWriter.append(value, to: &out)
            out.append(UInt8(ascii: "}"))
            return
        }
        if !attribute.isFirst { out.append(UInt8(ascii: ",")) }
        AnyValueWriter.appendKeyValue(key: key(attribute), value: value, to: &out)
    }
}
