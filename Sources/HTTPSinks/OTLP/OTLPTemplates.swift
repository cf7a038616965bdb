import Glibc
import Records

/// What OTLP's JSON writer derives from a record's layout, kept for the next records with the same
/// one: most records of a batch have one of a few layouts (the same keys in the same order, written
/// the same way), and for those the roles, the reader's findings and each attribute's
/// `{"key":"…","value":{"stringValue":` are known before the record is read.
///
/// A layout is the record's text between its members' values: `{"ts":`, `,"level":`, … (keys, quotes,
/// colons, commas and spaces as written), with the flag of each member the enricher added. A record
/// whose members' values are preceded by the same bytes, with the same flags, has the same keys in the
/// same order: one comparison of a few bytes a member tells it, where reading its keys again
/// (`RecordReader.take`, `OTLPFormat.roles`) and writing each key cost several times as much.
/// A template is kept only where the roles follow from the keys alone (not with trace or span ids,
/// whose roles depend on their values).
final class OTLPTemplates {
    /// Templates kept (four: `uses`); the least recently used gives way.
    static let count = 4
    /// A template's members at most (the reader's wanted bits cover 64), its layout's bytes and its
    /// attributes' written prefixes.
    static let memberCapacity = 64
    static let layoutCapacity = 1024
    /// (A prefix is its key and at most 34 bytes more, padded to 16: every layout that fits has room,
    /// with its objects' members.)
    static let prefixCapacity = 12288
    /// An object attribute's members at most, and the bytes of a template's objects' pieces.
    static let objectMemberCapacity = 16
    static let objectLayoutCapacity = 1024

    /// How an attribute's value is written after its prefix, as it was in the record the template
    /// was made from; a value of another kind is written as `AnyValueWriter.appendKeyValue` writes it.
    enum Kind: UInt8 {
        /// `{"stringValue":` and the string as it is, then `}}`.
        case string
        /// `{"intValue":"`, the digits, `"}}`.
        case int
        /// `{"doubleValue":`, the number, `}}` (no exponent: it is finite).
        case double
        /// `AnyValueWriter.append`, then `}`: arrays, booleans, null, and objects not written as
        /// `object`.
        case any
        /// An object of strings and numbers with the layout the template holds (`ObjectMember`):
        /// `{"kvlistValue":{"values":[`, each member as an attribute, `]}}}`.
        case object
    }

    /// One attribute: the member it is, its prefix (a comma unless it is the first, `{"key":"`, the
    /// key, `","value":` and the kind's own opening) and its key within that prefix.
    struct Attribute {
        var member: Int32
        var kind: Kind
        var isFirst: Bool
        var prefixStart: Int32
        var prefixCount: Int32
        var keyStart: Int32
        var keyCount: Int32
        /// An `object`'s members (in `objectMembers`) and the bytes after its last value (in
        /// `objectLayout`).
        var objectStart: Int32 = 0
        var objectCount: Int32 = 0
        var tailStart: Int32 = 0
        var tailCount: Int32 = 0
    }

    /// A member of an `object` attribute: the bytes before its value since the last value's end (or the
    /// object's start), in `objectLayout`, its value's kind (a string or a number) and its prefix.
    struct ObjectMember {
        var pieceStart: Int32
        var pieceCount: Int32
        var kind: Kind
        var prefixStart: Int32
        var prefixCount: Int32
    }

    /// What a template holds besides its bytes.
    struct Facts {
        var members = -1
        var attributes = 0
        var roles = OTLPFormat.Roles()
        var time: Int?
        var wanted: UInt64 = 0
    }

    /// The buffers below, carved out of one anonymous mapping (`Region`): a page of it is resident only
    /// once written, so a format that never writes JSON (protobuf, the delivery's own, an idle
    /// sink's) holds none of it. Every entry but the facts is of a trivial type and written by `make`
    /// or `appendObject` before it is read.
    private let region: Region
    private let facts: UnsafeMutableBufferPointer<Facts>
    /// Each member's layout piece's length, with bit 40 set for a member the enricher added
    /// (`pieceWord`).
    private let pieceWords: UnsafeMutableBufferPointer<UInt64>
    private let layout: UnsafeMutableRawBufferPointer
    private let sources: UnsafeMutableBufferPointer<EnrichmentField.Source?>
    private let attributes: UnsafeMutableBufferPointer<Attribute>
    private let prefixes: UnsafeMutableRawBufferPointer
    private let objectMembers: UnsafeMutableBufferPointer<ObjectMember>
    private let objectLayout: UnsafeMutableRawBufferPointer
    /// Where each member's value of the object being written ends, found before it is written.
    private let objectEnds: UnsafeMutableBufferPointer<Int>
    /// The template matched or made last, tried first.
    private var last = 0
    /// When each template was last matched or made, on a count of those events: `make` replaces the
    /// one least recently used, so an odd record now and then does not push out a common layout.
    private var uses: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var clock: UInt64 = 0
    /// Templates made so far (the tests tell from it that records were written from one).
    private(set) var made = 0

    init() {
        let entries = Self.count * Self.memberCapacity
        var carver = Region.Carver()
        let facts = carver.take(Facts.self, Self.count)
        let pieceWords = carver.take(UInt64.self, entries)
        let layout = carver.take(UInt8.self, Self.count * Self.layoutCapacity)
        let sources = carver.take(EnrichmentField.Source?.self, entries)
        let attributes = carver.take(Attribute.self, entries)
        let prefixes = carver.take(UInt8.self, Self.count * Self.prefixCapacity)
        let objectMembers = carver.take(ObjectMember.self, entries)
        let objectLayout = carver.take(UInt8.self, Self.count * Self.objectLayoutCapacity)
        let objectEnds = carver.take(Int.self, Self.objectMemberCapacity)
        let region = Region(bytes: carver.bytes)
        self.region = region
        self.facts = region.buffer(facts, Facts.self)
        self.pieceWords = region.buffer(pieceWords, UInt64.self)
        self.layout = UnsafeMutableRawBufferPointer(region.buffer(layout, UInt8.self))
        self.sources = region.buffer(sources, EnrichmentField.Source?.self)
        self.attributes = region.buffer(attributes, Attribute.self)
        self.prefixes = UnsafeMutableRawBufferPointer(region.buffer(prefixes, UInt8.self))
        self.objectMembers = region.buffer(objectMembers, ObjectMember.self)
        self.objectLayout = UnsafeMutableRawBufferPointer(region.buffer(objectLayout, UInt8.self))
        self.objectEnds = region.buffer(objectEnds, Int.self)
        self.facts.initialize(repeating: Facts())
    }

    /// The template whose layout `record` has (its members `found`, as the enricher kept them), if any.
    @inline(__always)
    func match(_ found: UnsafeBufferPointer<PackedMember>, in record: UnsafeRawBufferPointer) -> Int? {
        if matches(last, found, in: record) { return last }
        for slot in 0..<Self.count where slot != last && matches(slot, found, in: record) {
            used(slot)
            return slot
        }
        return nil
    }

    /// Notes that `slot` was matched or made now (the last template matched again needs no note: no
    /// other was used since).
    private func used(_ slot: Int) {
        last = slot
        clock &+= 1
        withUnsafeMutableBytes(of: &uses) { $0.storeBytes(of: clock, toByteOffset: slot &* 8, as: UInt64.self) }
    }

    /// The template least recently used.
    private var leastRecentlyUsed: Int {
        let (first, second, third, fourth) = uses
        let low = first <= second ? (0, first) : (1, second)
        let high = third <= fourth ? (2, third) : (3, fourth)
        return low.1 <= high.1 ? low.0 : high.0
    }

    @inline(__always)
    private func matches(_ slot: Int, _ found: UnsafeBufferPointer<PackedMember>, in record: UnsafeRawBufferPointer) -> Bool {
        guard found.count == facts[slot].members, let base = record.baseAddress, let layout = layout.baseAddress,
            let words = pieceWords.baseAddress
        else { return false }
        var piece = UnsafeRawPointer(layout + slot &* Self.layoutCapacity)
        let slotWords = words + slot &* Self.memberCapacity
        var previous = 0
        for index in 0..<found.count {
            let member = found[index]
            // The bytes before the value since the last one's end: a piece of the same length and
            // bytes, and the same flag. (A negative length, which the members' order rules out, has
            // its top bits set and matches no piece.)
            let length = member.value.lowerBound &- previous
            guard Self.pieceWord(length, member) == slotWords[index], ShortCompare.equal(base + previous, piece, length) else { return false }
            piece += length
            previous = member.value.upperBound
        }
        return true
    }

    /// A piece's length and whether its member is one the enricher added.
    @inline(__always)
    private static func pieceWord(_ length: Int, _ member: PackedMember) -> UInt64 {
        UInt64(truncatingIfNeeded: length) | (member.isEnrichment ? 1 << 40 : 0)
    }

    /// The roles, the time's place and the wanted bits of template `slot`.
    @inline(__always)
    func facts(_ slot: Int) -> Facts { facts[slot] }

    /// The sources of template `slot`'s members, by index.
    @inline(__always)
    func sources(_ slot: Int) -> UnsafeBufferPointer<EnrichmentField.Source?> {
        UnsafeBufferPointer(rebasing: sources[slot &* Self.memberCapacity..<(slot &+ 1) &* Self.memberCapacity])
    }

    /// Template `slot`'s attributes, in order.
    @inline(__always)
    func attributes(_ slot: Int) -> UnsafeBufferPointer<Attribute> {
        UnsafeBufferPointer(rebasing: attributes[slot &* Self.memberCapacity..<slot &* Self.memberCapacity &+ facts[slot].attributes])
    }

    /// The bytes of `attribute`'s key (between its quotes), within its prefix.
    @inline(__always)
    func key(_ attribute: Attribute) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: prefixes.baseAddress.unsafelyUnwrapped + Int(attribute.keyStart), count: Int(attribute.keyCount))
    }

    /// Makes a template of `record`, just read in full (`members`, with `roles` from its keys alone),
    /// in place of the least recently used; nothing when it does not fit. `attributeKey` is the key an attribute is
    /// written under (nil: the member is none).
    func make(
        _ record: UnsafeRawBufferPointer, members: RecordReader.MemberView, found: UnsafeBufferPointer<PackedMember>, roles: OTLPFormat.Roles,
        time: Int?, wanted: UInt64, attributeKey: (Int) -> UnsafeRawBufferPointer?
    ) {
        // The pieces are the bytes before the last value at most; a layout that does not fit leaves
        // the templates as they were.
        guard found.count <= Self.memberCapacity, let last = found.last, last.value.lowerBound <= Self.layoutCapacity,
            let base = record.baseAddress, let layout = layout.baseAddress, let prefixes = prefixes.baseAddress
        else { return }
        let slot = leastRecentlyUsed
        facts[slot].members = -1
        let pieces = layout + slot &* Self.layoutCapacity
        let firstMember = slot &* Self.memberCapacity
        var previous = 0
        var at = 0
        for index in 0..<found.count {
            let member = found[index]
            let length = member.value.lowerBound - previous
            guard length >= 0, at + length <= Self.layoutCapacity else { return }
            (pieces + at).copyMemory(from: base + previous, byteCount: length)
            at += length
            pieceWords[firstMember + index] = Self.pieceWord(length, member)
            sources[firstMember + index] = members.source(at: index)
            previous = member.value.upperBound
        }
        var count = 0
        var written = slot &* Self.prefixCapacity
        let prefixEnd = written + Self.prefixCapacity
        var objectCount = 0
        var objectAt = slot &* Self.objectLayoutCapacity
        /// `{"key":"<key>","value":` and the kind's opening, after a comma unless `first`, kept in
        /// room of a multiple of 16 bytes, read that far (`ByteOutput.appendPadded`); where, and where its key is.
        func keep(key: UnsafeRawBufferPointer, kind: Kind, first: Bool) -> (start: Int32, count: Int32, key: Int32)? {
            var prefix: [UInt8] = first ? [] : [UInt8(ascii: ",")]
            prefix.appendLiteral(#"{"key":""#)
            let keyStart = prefix.count
            prefix.append(contentsOf: key)
            prefix.appendLiteral(#"","value":"#)
            switch kind {
            case .string: prefix.appendLiteral(#"{"stringValue":"#)
            case .int: prefix.appendLiteral(#"{"intValue":""#)
            case .double: prefix.appendLiteral(#"{"doubleValue":"#)
            case .object: prefix.appendLiteral(#"{"kvlistValue":{"values":["#)
            case .any: break
            }
            let padded = (prefix.count + 15) & ~15
            guard written + padded <= prefixEnd else { return nil }
            prefix.withUnsafeBytes { (prefixes + written).copyMemory(from: $0.baseAddress.unsafelyUnwrapped, byteCount: $0.count) }
            defer { written += padded }
            return (Int32(written), Int32(prefix.count), Int32(written + keyStart))
        }
        for index in 0..<found.count where !roles.isLifted(index) {
            guard let key = attributeKey(index) else { continue }
            let value = UnsafeRawBufferPointer(rebasing: record[found[index].value])
            var kind = Self.kind(value)
            // An object of strings and numbers: its layout, as the record's.
            var object: (members: [ObjectMember], tail: Range<Int>)?
            if kind == .any, value.first == UInt8(ascii: "{"), let layout = objectLayout.baseAddress {
                var fields: [ObjectMember] = []
                var fieldEnd = 0
                var fits = true
                let isObject = RecordMembers.forEach(value) { member in
                    let inner = UnsafeRawBufferPointer(rebasing: value[member.value])
                    let innerKind = Self.kind(inner)
                    let length = member.value.lowerBound - fieldEnd
                    guard fits, innerKind != .any, fields.count < Self.objectMemberCapacity, length >= 0,
                        objectAt + length <= (slot + 1) * Self.objectLayoutCapacity,
                        let prefix = keep(key: UnsafeRawBufferPointer(rebasing: value[member.key]), kind: innerKind, first: fields.isEmpty)
                    else {
                        fits = false
                        return
                    }
                    (layout + objectAt).copyMemory(from: value.baseAddress.unsafelyUnwrapped + fieldEnd, byteCount: length)
                    fields.append(
                        ObjectMember(
                            pieceStart: Int32(objectAt), pieceCount: Int32(length), kind: innerKind, prefixStart: prefix.start,
                            prefixCount: prefix.count))
                    objectAt += length
                    fieldEnd = member.value.upperBound
                }
                let tail = value.count - fieldEnd
                if isObject, fits, !fields.isEmpty, objectCount + fields.count <= Self.memberCapacity,
                    objectAt + tail <= (slot + 1) * Self.objectLayoutCapacity
                {
                    (layout + objectAt).copyMemory(from: value.baseAddress.unsafelyUnwrapped + fieldEnd, byteCount: tail)
                    object = (fields, objectAt..<(objectAt + tail))
                    objectAt += tail
                    kind = .object
                }
            }
            guard let prefix = keep(key: key, kind: kind, first: count == 0) else { return }
            var attribute = Attribute(
                member: Int32(index), kind: kind, isFirst: count == 0, prefixStart: prefix.start, prefixCount: prefix.count, keyStart: prefix.key,
                keyCount: Int32(key.count))
            if let object {
                let start = slot &* Self.memberCapacity + objectCount
                for (offset, member) in object.members.enumerated() { objectMembers[start + offset] = member }
                (attribute.objectStart, attribute.objectCount) = (Int32(start), Int32(object.members.count))
                (attribute.tailStart, attribute.tailCount) = (Int32(object.tail.lowerBound), Int32(object.tail.count))
                objectCount += object.members.count
            }
            attributes[firstMember + count] = attribute
            count += 1
        }
        facts[slot] = Facts(members: found.count, attributes: count, roles: roles, time: time, wanted: wanted)
        used(slot)
        made += 1
    }

    /// The kind a value is written as (see `Kind`).
    static func kind(_ value: UnsafeRawBufferPointer) -> Kind {
        switch value.first {
        case UInt8(ascii: "\"")?: return .string
        case let first? where first &- 0x30 < 10 || first == UInt8(ascii: "-"):
            let shape = AnyValueWriter.NumberShape(value)
            if shape.isInt64 { return .int }
            return shape.hasExponent || value.count > 300 ? .any : .double
        default: return .any
        }
    }

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
            case .double where Self.isNumber(value) && Self.isPlainDouble(AnyValueWriter.NumberShape(value), value):
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
        return first &- 0x30 < 10 || first == UInt8(ascii: "-")
    }

    /// Whether a number is written as a `doubleValue` as it is: no integer that fits, and no exponent
    /// (nor a length) that might take it past a double's range.
    @inline(__always)
    private static func isPlainDouble(_ shape: AnyValueWriter.NumberShape, _ value: UnsafeRawBufferPointer) -> Bool {
        !shape.isInt64 && !(shape.hasExponent || value.count > 300)
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
                    Self.isPlainDouble(AnyValueWriter.NumberShape(inner), inner)
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

/// Memory of its own anonymous mapping, for buffers that stay unresident until written
/// (`OTLPTemplates`); from the allocator when the mapping fails.
final class Region {
    private let base: UnsafeMutableRawPointer
    private let bytes: Int
    private let isMapped: Bool

    init(bytes: Int) {
        self.bytes = bytes
        if let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapped != MAP_FAILED {
            (base, isMapped) = (mapped, true)
        } else {
            (base, isMapped) = (.allocate(byteCount: bytes, alignment: 64), false)
        }
    }

    deinit {
        if isMapped { munmap(base, bytes) } else { base.deallocate() }
    }

    /// `piece` as its elements of `type`; valid while the region is.
    func buffer<Element>(_ piece: Carver.Piece, _ type: Element.Type) -> UnsafeMutableBufferPointer<Element> {
        UnsafeMutableBufferPointer(start: (base + piece.offset).bindMemory(to: type, capacity: piece.count), count: piece.count)
    }

    /// Where each buffer goes, one after another on 64-byte boundaries.
    struct Carver {
        struct Piece {
            let offset: Int
            let count: Int
        }

        private(set) var bytes = 0

        /// Room for `count` elements of `type`.
        mutating func take<Element>(_ type: Element.Type, _ count: Int) -> Piece {
            let offset = (bytes + 63) & ~63
            bytes = offset + MemoryLayout<Element>.stride * count
            return Piece(offset: offset, count: count)
        }
    }
}
