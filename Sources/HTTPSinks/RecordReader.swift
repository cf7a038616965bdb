import Records

/// A record's top-level members as byte ranges, for the formats that take records apart, with the
/// application's members told from the enrichment fields: in wrap mode the members of `raw` are the
/// application's; in merge mode an enrichment key counts as ours only while it holds our value (an
/// application's own `host` stays the application's). A copy shares the original's room
/// (`ReaderRoom`): each format keeps one reader and reads with it alone.
struct RecordReader {
    typealias Member = JSONScanner.Member

    private let shape: RecordShape
    /// Most keys are no enrichment field's: the bitmaps say so without a comparison.
    private let fieldKeys: KeyFilter
    /// The keys the format looks for (OTLP's roles, Loki's times), and the application's members
    /// their bitmaps let through, one bit each by index (`forEachWanted`): noted in the same loop as
    /// the sources, so the format's own lookups visit a few members, not all.
    private let wantedKeys: KeyFilter
    private var wanted: UInt64 = 0
    private static let rawKey = Array("raw".utf8)
    /// The last record's members, in order (the application's under `raw` where `raw` was), each of
    /// ours flagged (`PackedMember.isEnrichment`): the batch's own, as the enricher kept them, or those
    /// this reader found, in `room`. Valid until the next `read`, and the batch's only inside the
    /// caller's `withUnsafeBufferPointer` that gave them.
    private(set) var members = MemberView()
    private let room = ReaderRoom()
    /// Where the scanner puts a record's members, kept from record to record; their sources go
    /// straight into the room.
    private var memberSlots: [Member] = []
    /// The member holding the processing time, if any.
    private(set) var timeMember: Int?
    /// How the application's time member is written (`time_format`), and how many values did not parse.
    var timeFormat = TimeFormat.rfc3339 {
        didSet {
            if case .rfc3339 = timeFormat { readsRFC3339 = true } else { readsRFC3339 = false }
        }
    }
    private var readsRFC3339 = true
    private(set) var timeParseErrors = 0
    /// The last RFC 3339 second read: the records of a batch mostly share theirs.
    private var secondsMemo = RFC3339.SecondsMemo()

    init(shape: RecordShape, wanted keys: [[UInt8]] = []) {
        self.shape = shape
        fieldKeys = KeyFilter(shape.fields.map(\.key))
        wantedKeys = KeyFilter(keys)
    }

    /// A record's members through pointers, each with the enrichment field it is: a plain value,
    /// copied out of the reader with no retain.
    struct MemberView: RandomAccessCollection {
        fileprivate var base = UnsafeBufferPointer<PackedMember>(start: nil, count: 0)
        /// The enrichment field of each flagged member, by index; the other entries are stale.
        fileprivate var sources = UnsafeBufferPointer<EnrichmentField.Source?>(start: nil, count: 0)

        var startIndex: Int { 0 }
        var endIndex: Int { base.count }
        subscript(index: Int) -> PackedMember { base[index] }

        /// The enrichment field the member at `index` is; nil for the application's.
        @inline(__always)
        func source(at index: Int) -> EnrichmentField.Source? {
            base[index].isEnrichment ? sources[index] : nil
        }
    }

    /// Reads `record`; false when it is not a JSON object (the caller then sends it as a string). The
    /// members the enricher kept are taken inline (nearly every record), the scan is out of line.
    @inline(__always)
    mutating func read(_ record: UnsafeRawBufferPointer, members found: UnsafeBufferPointer<PackedMember>? = nil) -> Bool {
        timeMember = nil
        if let found, !shape.wrapped {
            take(found, of: record)
            return true
        }
        return scan(record)
    }

    /// Reads a record whose members the enricher kept (`found`) with what an earlier `read` of a record
    /// with the same keys found: the sources by index, the time's place and the wanted bits
    /// (`OTLPTemplates`, which tells that the keys are the same).
    mutating func adopt(
        _ found: UnsafeBufferPointer<PackedMember>, sources: UnsafeBufferPointer<EnrichmentField.Source?>, time: Int?, wanted: UInt64
    ) {
        members = MemberView(base: found, sources: sources)
        (timeMember, self.wanted) = (time, wanted)
    }

    /// `read` of a record whose members were not kept. The scanner's members go into slots kept from
    /// record to record (`scanIntoSlots`), their sources into the room, grown with the slots.
    private mutating func scan(_ record: UnsafeRawBufferPointer) -> Bool {
        let wrapped = shape.wrapped
        guard record.count < PackedMember.limit else {
            // Past what 32-bit offsets hold (no line is this long): sent whole, as a string.
            members = MemberView()
            wanted = 0
            return false
        }
        // What the closure reads of `self`, taken out: a method called on `self` from it copied the
        // whole reader, a retain and a release of each of its arrays, twice a record.
        let fields = shape.fields
        let fieldKeys = fieldKeys
        let wantedKeys = wantedKeys
        let room = room
        var time: Int?
        var wanted: UInt64 = 0
        let (object, found) = memberSlots.scanIntoSlots { memberSlots in
            // The sources by index, in room as large as the slots.
            room.reserve(memberSlots.count)
            let sources = room.sources
            var found = 0
            time = nil
            wanted = 0
            let slotCount = memberSlots.count
            let object = JSONScanner.scanTrustedObject(record) { member in
                if wrapped, !member.keyIsEscaped, UnsafeRawBufferPointer(rebasing: record[member.key]).equals(Self.rawKey),
                    record[member.value.lowerBound] == UInt8(ascii: "{")
                {
                    let base = member.value.lowerBound
                    _ = RecordMembers.forEach(UnsafeRawBufferPointer(rebasing: record[member.value])) { inner in
                        if found < slotCount {
                            memberSlots[found] = Member(
                                key: (inner.key.lowerBound + base)..<(inner.key.upperBound + base), keyIsEscaped: inner.keyIsEscaped,
                                value: (inner.value.lowerBound + base)..<(inner.value.upperBound + base), valueIsString: inner.valueIsString)
                            sources[found] = nil
                        }
                        wanted |= Self.wantedBit(
                            key: inner.key, escaped: inner.keyIsEscaped, found, in: UnsafeRawBufferPointer(rebasing: record[member.value]),
                            wantedKeys)
                        found &+= 1
                    }
                    return
                }
                let source = Self.source(
                    key: member.key, escaped: member.keyIsEscaped, value: member.value, in: record, fields: fields, fieldKeys: fieldKeys)
                // A pattern, not ==: Optional's == went through the Equatable witness, twice a record.
                if case .time? = source { time = found }
                if case .none = source { wanted |= Self.wantedBit(key: member.key, escaped: member.keyIsEscaped, found, in: record, wantedKeys) }
                if found < slotCount {
                    memberSlots[found] = member
                    sources[found] = source
                }
                found &+= 1
            }
            return (object, found)
        }
        guard object != nil else {
            members = MemberView()
            self.wanted = 0
            return false
        }
        // Packed and flagged as the enricher's are (`take`): a record this reader scans is below
        // `PackedMember.limit`. The room holds as many as the slots, so `found` of each.
        let packed = room.members
        let sources = room.sources
        memberSlots.withUnsafeBufferPointer { slots in
            for index in 0..<found { packed[index] = PackedMember(slots[index], shift: 0, enrichment: sources[index] != nil) }
        }
        members = MemberView(base: UnsafeBufferPointer(rebasing: packed[..<found]), sources: UnsafeBufferPointer(sources))
        timeMember = time
        self.wanted = wanted
        return true
    }

    /// The members the enricher's scan found for `record` (`RecordBatch.members`): the same as the
    /// scan in `read` would find in merge mode, only their sources to tell. The enricher keeps the
    /// members only of a record none of whose keys is an enrichment field's, and flags the fields it
    /// added (`PackedMember.isEnrichment`): an unflagged member is the application's without a look at
    /// its key, and a flagged one is compared with the fields to tell which it is.
    private mutating func take(_ found: UnsafeBufferPointer<PackedMember>, of record: UnsafeRawBufferPointer) {
        let fields = shape.fields
        let wantedKeys = wantedKeys
        var time: Int?
        var wanted: UInt64 = 0
        var count = found.count
        // The members read where they are; only the flagged ones' sources written.
        room.reserve(count)
        let sources = room.sources
        members = MemberView(base: found, sources: UnsafeBufferPointer(sources))
        // The flagged members at the end (the enricher's suffix): the last record's sources when they
        // are the same bytes, else found one by one below and kept.
        var suffixStart = count
        while suffixStart > 0, found[suffixStart &- 1].isEnrichment { suffixStart &-= 1 }
        var suffixKnown = false
        var suffixBytes = UnsafeRawBufferPointer(start: nil, count: 0)
        if suffixStart < count {
            suffixBytes = UnsafeRawBufferPointer(rebasing: record[found[suffixStart].key.lowerBound..<found[count &- 1].value.upperBound])
            suffixKnown = takeSuffix(suffixBytes, at: suffixStart, count &- suffixStart, time: &time)
            if suffixKnown { count = suffixStart }
        }
        for index in 0..<count {
            let member = found[index]
            guard member.isEnrichment else {
                wanted |= Self.wantedBit(key: member.key, escaped: member.keyIsEscaped, index, in: record, wantedKeys)
                continue
            }
            let source = Self.source(key: member.key, value: member.value, in: record, fields: fields)
            if case .time? = source { time = index }
            sources[index] = source
        }
        if !suffixKnown, suffixStart < count { keepSuffix(suffixBytes, at: suffixStart, count &- suffixStart, time: time) }
        timeMember = time
        self.wanted = wanted
    }

    /// Whether the flagged members from `start` on (`bytes`, `members` of them) are the last kept
    /// suffix's; if so their sources and the time's place are written as they were found then.
    @inline(__always)
    private func takeSuffix(_ bytes: UnsafeRawBufferPointer, at start: Int, _ members: Int, time: inout Int?) -> Bool {
        guard bytes.count == room.suffixCount, members == room.suffixMembers, let base = bytes.baseAddress,
            let kept = room.suffix.baseAddress, ShortCompare.equal(base, kept, bytes.count)
        else { return false }
        let sources = room.sources
        for offset in 0..<members { sources[start &+ offset] = room.suffixSources[offset] }
        if let place = room.suffixTime { time = start &+ place }
        return true
    }

    /// Keeps the flagged members from `start` on (`bytes`, `members` of them), whose sources were just
    /// found, for `takeSuffix`.
    private func keepSuffix(_ bytes: UnsafeRawBufferPointer, at start: Int, _ members: Int, time: Int?) {
        room.suffixCount = -1
        guard bytes.count <= ReaderRoom.suffixCapacity, members <= ReaderRoom.suffixCapacity else { return }
        room.suffix.copyMemory(from: bytes)
        for offset in 0..<members { room.suffixSources[offset] = room.sources[start &+ offset] }
        room.suffixTime = time.flatMap { $0 >= start ? $0 &- start : nil }
        (room.suffixCount, room.suffixMembers) = (bytes.count, members)
    }

    /// `member`'s bit when it is the one at `index` below 64 and may be wanted.
    @inline(__always)
    private static func wantedBit(
        key: Range<Int>, escaped: Bool, _ index: Int, in record: UnsafeRawBufferPointer, _ wantedKeys: KeyFilter
    ) -> UInt64 {
        guard index < 64, mayBeWanted(key: key, escaped: escaped, in: record, wantedKeys) else { return 0 }
        return 1 &<< UInt64(index)
    }

    /// Whether an application's key may be one of the wanted keys: unescaped, and let through by their
    /// bitmaps.
    @inline(__always)
    private static func mayBeWanted(key: Range<Int>, escaped: Bool, in record: UnsafeRawBufferPointer, _ wantedKeys: KeyFilter) -> Bool {
        !escaped && wantedKeys.mayMatch(key.count, record[key.lowerBound])
    }

    /// The members `forEachWanted` visits, one bit each by index, when the record has at most 64
    /// members (nil past that: the bits do not hold them all).
    var wantedBits: UInt64? { members.count <= 64 ? wanted : nil }

    /// Calls `body` with the index of each of the application's members, in order, that may have one
    /// of the wanted keys: the bits noted while reading, and past the 64th member each looked at here.
    /// Mutating, though it changes nothing: called on a class's reader, a method that is not copied the
    /// whole reader first.
    mutating func forEachWanted(in record: UnsafeRawBufferPointer, _ body: (Int) -> Void) {
        var bits = wanted
        while bits != 0 {
            body(bits.trailingZeroBitCount)
            bits &= bits &- 1
        }
        for index in members.indices.dropFirst(64) {
            let member = members[index]
            guard !member.isEnrichment else { continue }
            if Self.mayBeWanted(key: member.key, escaped: member.keyIsEscaped, in: record, wantedKeys) { body(index) }
        }
    }

    /// The enrichment field `member` is, if any: `fieldKeys` answers for nearly every member without a
    /// comparison, in the caller's loop; the fields are compared only for a key it lets through.
    @inline(__always)
    private static func source(
        key: Range<Int>, escaped: Bool, value: Range<Int>, in record: UnsafeRawBufferPointer, fields: [EnrichmentField], fieldKeys: KeyFilter
    ) -> EnrichmentField.Source? {
        guard !escaped, fieldKeys.mayMatch(key.count, record[key.lowerBound]) else { return nil }
        return source(key: key, value: value, in: record, fields: fields)
    }

    private static func source(key range: Range<Int>, value: Range<Int>, in record: UnsafeRawBufferPointer, fields: [EnrichmentField])
        -> EnrichmentField.Source?
    {
        let key = UnsafeRawBufferPointer(rebasing: record[range])
        // By index: a loop over the fields themselves copied each one, a retain and a release of its arrays.
        for index in fields.indices where key.equals(fields[index].key) {
            if let fieldValue = fields[index].value, !UnsafeRawBufferPointer(rebasing: record[value]).equals(fieldValue) { return nil }
            return fields[index].source
        }
        return nil
    }

    /// The first of the application's members named `name`.
    func first(named name: [UInt8], in record: UnsafeRawBufferPointer) -> Int? {
        members.indices.first {
            !members[$0].isEnrichment && !members[$0].keyIsEscaped && UnsafeRawBufferPointer(rebasing: record[members[$0].key]).equals(name)
        }
    }

    /// The first of the application's members named one of `names`, in the order of `names`, which
    /// are the wanted keys given at `init`.
    mutating func first(of names: KeyTable, in record: UnsafeRawBufferPointer) -> Int? {
        var best: (index: Int, rank: Int)?
        let members = members
        forEachWanted(in: record) { index in
            names.forEachMatch(UnsafeRawBufferPointer(rebasing: record[members[index].key])) { rank in
                if rank < (best?.rank ?? Int.max) { best = (index, rank) }
            }
        }
        return best?.index
    }

    /// A string value's content between its quotes; empty for any other value.
    static func stringContent(_ record: UnsafeRawBufferPointer, _ range: Range<Int>) -> UnsafeRawBufferPointer {
        guard range.count >= 2, record[range.lowerBound] == UInt8(ascii: "\"") else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(rebasing: record[range]).betweenQuotes
    }

    /// The nanoseconds of the application's time, the member at `index`, read with `timeFormat`; a value
    /// that does not parse is counted.
    mutating func time(_ index: Int?, in record: UnsafeRawBufferPointer) -> UInt64? {
        guard let index else { return nil }
        let member = members[index]
        let value =
            member.valueIsString
            ? Self.stringContent(record, member.value) : UnsafeRawBufferPointer(rebasing: record[member.value])
        guard let nanoseconds = timeFormat.nanoseconds(value, isString: member.valueIsString, memo: &secondsMemo) else {
            timeParseErrors += 1
            return nil
        }
        return nanoseconds
    }

    /// The application's time at `index` as its text, when it is read as RFC 3339 (a string, the
    /// default `time_format`): what `NanosecondDigits.fraction` takes.
    @inline(__always)
    func rfc3339Text(_ index: Int?, in record: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard let index, readsRFC3339, members[index].valueIsString else { return nil }
        return Self.stringContent(record, members[index].value)
    }

    /// The processing time (our RFC 3339 field) at `index`.
    func processingTime(_ index: Int?, in record: UnsafeRawBufferPointer) -> UInt64? {
        guard let index else { return nil }
        return RFC3339.nanoseconds(Self.stringContent(record, members[index].value))
    }

    /// The count of values that did not parse since the last call.
    mutating func takeTimeParseErrors() -> Int {
        defer { timeParseErrors = 0 }
        return timeParseErrors
    }
}
