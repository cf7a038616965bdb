/// `remove`: deletes fields, every copy of a duplicated key.
final class RemoveFilter: RecordFilter {
    /// Top-level keys without dots: removed in one pass that copies the rest once.
    private let keys: [FieldPath]
    private let paths: [FieldPath]

    init(fields: [String]) {
        let all = fields.map(FieldPath.init)
        keys = all.filter { $0.dots.isEmpty }
        paths = all.filter { !$0.dots.isEmpty }
    }

    func apply(_ record: inout FilterRecord, spare: inout FilterRecord, nowMs: Int64) -> Bool {
        if !keys.isEmpty { removeKeys(&record, spare: &spare) }
        for path in paths {
            guard var location = record.locate(path) else { continue }
            // Duplicates of the member found go too; the path's other reading (a dotted key, or the
            // nested field beside it) stays, as a lookup would not have found it.
            let depth = location.nested.count
            while true {
                spare.edit(&record, .remove, at: location)
                guard let next = record.locate(path), next.nested.count == depth else { break }
                location = next
            }
        }
        return true
    }

    private func removeKeys(_ record: inout FilterRecord, spare: inout FilterRecord) {
        let keys = self.keys
        let doomed = record.bytes.withUnsafeBytes { raw in
            record.members.indices.filter { index in
                keys.contains { key in key.text.withUnsafeBytes { FilterRecord.keyEquals(record.members[index], $0, raw) } }
            }
        }
        if doomed.isEmpty { return }
        spare.begin(like: record)
        record.bytes.withUnsafeBytes { raw in
            var next = 0
            for (index, member) in record.members.enumerated() {
                if next < doomed.count && doomed[next] == index { next += 1; continue }
                spare.appendMember(
                    escapedKey: UnsafeRawBufferPointer(rebasing: raw[member.key]), keyIsEscaped: member.keyIsEscaped,
                    value: UnsafeRawBufferPointer(rebasing: raw[member.value]))
            }
        }
        spare.end()
        swap(&record, &spare)
    }
}
