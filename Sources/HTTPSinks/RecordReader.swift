import Records

/// A record's top-level members as byte ranges, for the formats that take records apart, with the
/// application's members told from the enrichment fields: in wrap mode the members of `raw` are the
/// application's; in merge mode an enrichment key counts as ours only while it holds our value (an
/// application's own `host` stays the application's).
struct RecordReader {
    typealias Member = JSONScanner.Member

    private let shape: RecordShape
    /// Most keys are no enrichment field's: the bitmaps say so without a comparison.
    private let fieldKeys: KeyFilter
    private static let rawKey = Array("raw".utf8)
    /// The last record's members, in order (the application's under `raw` where `raw` was).
    private(set) var members: [Member] = []
    /// For each member, which enrichment field it is; nil for the application's.
    private(set) var sources: [EnrichmentField.Source?] = []
    /// Where the scanner puts a record's members and their sources, kept from record to record.
    private var memberSlots: [Member] = []
    private var sourceSlots: [EnrichmentField.Source?] = []
    /// The member holding the processing time, if any.
    private(set) var timeMember: Int?
    /// How the application's time member is written (`time_format`), and how many values did not parse.
    var timeFormat = TimeFormat.rfc3339
    private(set) var timeParseErrors = 0

    init(shape: RecordShape) {
        self.shape = shape
        fieldKeys = KeyFilter(shape.fields.map(\.key))
    }

    /// Reads `record`; false when it is not a JSON object (the caller then sends it as a string).
    /// The scanner's members and their sources go into slots kept from record to record
    /// (`scanIntoSlots`); the sources' slots grow with the members'.
    mutating func read(_ record: UnsafeRawBufferPointer, members found: ArraySlice<PackedMember>? = nil) -> Bool {
        timeMember = nil
        let wrapped = shape.wrapped
        if let found, !wrapped {
            take(found, of: record)
            return true
        }
        // What the closure reads of `self`, taken out: a method called on `self` from it copied the
        // whole reader, a retain and a release of each of its arrays, twice a record.
        let fields = shape.fields
        let fieldKeys = fieldKeys
        var time: Int?
        let (object, found) = memberSlots.scanIntoSlots { memberSlots in
            if sourceSlots.count < memberSlots.count {
                sourceSlots.append(contentsOf: repeatElement(nil, count: memberSlots.count - sourceSlots.count))
            }
            var found = 0
            time = nil
            let object = sourceSlots.withUnsafeMutableBufferPointer { sourceSlots in
                let room = memberSlots.count
                return JSONScanner.scanTrustedObject(record) { member in
                    if wrapped, !member.keyIsEscaped, UnsafeRawBufferPointer(rebasing: record[member.key]).equals(Self.rawKey),
                        record[member.value.lowerBound] == UInt8(ascii: "{")
                    {
                        let base = member.value.lowerBound
                        _ = RecordMembers.forEach(UnsafeRawBufferPointer(rebasing: record[member.value])) { inner in
                            if found < room {
                                memberSlots[found] = Member(
                                    key: (inner.key.lowerBound + base)..<(inner.key.upperBound + base), keyIsEscaped: inner.keyIsEscaped,
                                    value: (inner.value.lowerBound + base)..<(inner.value.upperBound + base), valueIsString: inner.valueIsString)
                                sourceSlots[found] = nil
                            }
                            found += 1
                        }
                        return
                    }
                    let source = Self.source(of: member, in: record, fields: fields, fieldKeys: fieldKeys)
                    // A pattern, not ==: Optional's == went through the Equatable witness, twice a record.
                    if case .time? = source { time = found }
                    if found < room {
                        memberSlots[found] = member
                        sourceSlots[found] = source
                    }
                    found += 1
                }
            }
            return (object, found)
        }
        guard object != nil else {
            members.removeAll(keepingCapacity: true)
            sources.removeAll(keepingCapacity: true)
            return false
        }
        memberSlots.withUnsafeBufferPointer { members.replaceSubrange(members.indices, with: UnsafeBufferPointer(rebasing: $0[..<found])) }
        sourceSlots.withUnsafeBufferPointer { sources.replaceSubrange(sources.indices, with: UnsafeBufferPointer(rebasing: $0[..<found])) }
        timeMember = time
        return true
    }

    /// The members the enricher's scan found for `record` (`RecordBatch.members`): the same as the
    /// scan in `read` would find in merge mode, only their sources to tell. Written through pointers
    /// into arrays of the right size, as `read` does.
    private mutating func take(_ found: ArraySlice<PackedMember>, of record: UnsafeRawBufferPointer) {
        let fields = shape.fields
        let fieldKeys = fieldKeys
        var time: Int?
        let count = found.count
        if members.count > count {
            members.removeLast(members.count - count)
            sources.removeLast(sources.count - count)
        } else if members.count < count {
            members.append(contentsOf: repeatElement(.unset, count: count - members.count))
            sources.append(contentsOf: repeatElement(nil, count: count - sources.count))
        }
        members.withUnsafeMutableBufferPointer { members in
            sources.withUnsafeMutableBufferPointer { sources in
                found.withUnsafeBufferPointer { found in
                    for index in 0..<count {
                        let member = found[index].member
                        let source = Self.source(of: member, in: record, fields: fields, fieldKeys: fieldKeys)
                        if case .time? = source { time = index }
                        members[index] = member
                        sources[index] = source
                    }
                }
            }
        }
        timeMember = time
    }

    /// The enrichment field `member` is, if any: `fieldKeys` answers for nearly every member without a
    /// comparison, in the caller's loop; the fields are compared only for a key it lets through.
    @inline(__always)
    private static func source(
        of member: Member, in record: UnsafeRawBufferPointer, fields: [EnrichmentField], fieldKeys: KeyFilter
    ) -> EnrichmentField.Source? {
        guard !member.keyIsEscaped, fieldKeys.mayMatch(member.key.count, record[member.key.lowerBound]) else { return nil }
        return source(of: member, in: record, fields: fields)
    }

    private static func source(of member: Member, in record: UnsafeRawBufferPointer, fields: [EnrichmentField]) -> EnrichmentField.Source? {
        let key = UnsafeRawBufferPointer(rebasing: record[member.key])
        // By index: a loop over the fields themselves copied each one, a retain and a release of its arrays.
        for index in fields.indices where key.equals(fields[index].key) {
            if let value = fields[index].value, !UnsafeRawBufferPointer(rebasing: record[member.value]).equals(value) { return nil }
            return fields[index].source
        }
        return nil
    }

    /// The first of the application's members named `name`.
    func first(named name: [UInt8], in record: UnsafeRawBufferPointer) -> Int? {
        members.indices.first {
            sources[$0] == nil && !members[$0].keyIsEscaped && UnsafeRawBufferPointer(rebasing: record[members[$0].key]).equals(name)
        }
    }

    /// The first of the application's members named one of `names`, in the order of `names` (`filter`:
    /// their bitmaps, which rule out most keys without a comparison).
    func first(of names: KeyTable, filter: KeyFilter, in record: UnsafeRawBufferPointer) -> Int? {
        var best: (index: Int, rank: Int)?
        for (index, member) in members.enumerated()
        where sources[index] == nil && !member.keyIsEscaped && filter.mayMatch(member.key.count, record[member.key.lowerBound]) {
            names.forEachMatch(UnsafeRawBufferPointer(rebasing: record[member.key])) { rank in
                if rank < (best?.rank ?? Int.max) { best = (index, rank) }
            }
        }
        return best?.index
    }

    /// A string value's content between its quotes; empty for any other value.
    static func stringContent(_ record: UnsafeRawBufferPointer, _ range: Range<Int>) -> UnsafeRawBufferPointer {
        guard range.count >= 2, record[range.lowerBound] == UInt8(ascii: "\"") else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(rebasing: record[(range.lowerBound + 1)..<(range.upperBound - 1)])
    }

    /// The nanoseconds of the application's time, the member at `index`, read with `timeFormat`; a value
    /// that does not parse is counted.
    mutating func time(_ index: Int?, in record: UnsafeRawBufferPointer) -> UInt64? {
        guard let index else { return nil }
        let member = members[index]
        let value =
            member.valueIsString
            ? Self.stringContent(record, member.value) : UnsafeRawBufferPointer(rebasing: record[member.value])
        guard let nanoseconds = timeFormat.nanoseconds(value, isString: member.valueIsString) else {
            timeParseErrors += 1
            return nil
        }
        return nanoseconds
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
