/// A record's top-level members as byte ranges, for the formats that take records apart, with the
/// application's members told from the enrichment fields: in wrap mode the members of `raw` are the
/// application's; in merge mode an enrichment key counts as ours only while it holds our value (an
/// application's own `host` stays the application's).
struct RecordReader {
    struct Member {
        var key: Range<Int>
        var keyIsEscaped: Bool
        var value: Range<Int>
        /// Which enrichment field it is (an index into `RecordShape.fields`), nil for the application's.
        var field: Int?
    }

    private let shape: RecordShape
    /// Most keys are no enrichment field's: the bitmaps say so without a comparison.
    private let fieldKeys: KeyFilter
    private static let rawKey = Array("raw".utf8)
    /// The last record's members, in order (the application's under `raw` where `raw` was).
    private(set) var members: [Member] = []
    private var top: [JSONScanner.Member] = []

    init(shape: RecordShape) {
        self.shape = shape
        fieldKeys = KeyFilter(shape.fields.map(\.key))
    }

    /// Reads `record`; false when it is not a JSON object (the caller then sends it as a string).
    mutating func read(_ record: UnsafeRawBufferPointer) -> Bool {
        members.removeAll(keepingCapacity: true)
        top.removeAll(keepingCapacity: true)
        guard JSONScanner.scanObject(record, member: { top.append($0) }) != nil else { return false }
        for member in top {
            let key = UnsafeRawBufferPointer(rebasing: record[member.key])
            if shape.wrapped, !member.keyIsEscaped, key.equals(Self.rawKey), record[member.value.lowerBound] == UInt8(ascii: "{") {
                let base = member.value.lowerBound
                _ = JSONScanner.scanObject(UnsafeRawBufferPointer(rebasing: record[member.value])) { inner in
                    members.append(Member(
                        key: (inner.key.lowerBound + base)..<(inner.key.upperBound + base), keyIsEscaped: inner.keyIsEscaped,
                        value: (inner.value.lowerBound + base)..<(inner.value.upperBound + base), field: nil))
                }
                continue
            }
            members.append(Member(key: member.key, keyIsEscaped: member.keyIsEscaped, value: member.value, field: field(of: member, in: record)))
        }
        return true
    }

    private func field(of member: JSONScanner.Member, in record: UnsafeRawBufferPointer) -> Int? {
        guard !member.keyIsEscaped, fieldKeys.mayMatch(member.key.count, record[member.key.lowerBound]) else { return nil }
        let key = UnsafeRawBufferPointer(rebasing: record[member.key])
        for (index, field) in shape.fields.enumerated() where key.equals(field.key) {
            if let value = field.value, !UnsafeRawBufferPointer(rebasing: record[member.value]).equals(value) { return nil }
            return index
        }
        return nil
    }

    /// The first of the application's members named one of `names`, in the order of `names`.
    func first(of names: [[UInt8]], in record: UnsafeRawBufferPointer) -> Int? {
        var best: (index: Int, rank: Int)?
        for (index, member) in members.enumerated() where member.field == nil && !member.keyIsEscaped {
            let key = UnsafeRawBufferPointer(rebasing: record[member.key])
            for (rank, name) in names.enumerated() where rank < (best?.rank ?? names.count) && key.equals(name) {
                best = (index, rank)
                break
            }
        }
        return best?.index
    }

    /// The member holding enrichment field `source` (the processing time, the file, the stream).
    func field(_ source: EnrichmentField.Source) -> Int? {
        members.firstIndex { $0.field.map { shape.fields[$0].source == source } ?? false }
    }
}
