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
    let prefixes: UnsafeMutableRawBufferPointer
    let objectMembers: UnsafeMutableBufferPointer<ObjectMember>
    let objectLayout: UnsafeMutableRawBufferPointer
    /// Where each member's value of the object being written ends, found before it is written.
    let objectEnds: UnsafeMutableBufferPointer<Int>
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
        case let first? where AnyValueWriter.startsNumber(first):
            let shape = AnyValueWriter.NumberShape(value)
            if shape.isInt64 { return .int }
            return AnyValueWriter.isPlainDouble(shape, value) ? .double : .any
        default: return .any
        }
    }
}
