import Configuration
import Records

/// `remove`: deletes fields, every copy of a duplicated key.
final class RemoveFilter: RecordFilter {
    /// Top-level keys without dots: removed in one pass that copies the rest once.
    private let keys: [FieldPath]
    private let paths: [FieldPath]
    /// `keys`, each lent to the plan without a retain (`keys` holds them): a key held through the
    /// list's append was retained and released for every record.
    private let unretainedKeys: [Unmanaged<FieldPath>]

    /// Most keys differ from every one to remove in length or first byte: no comparison for them.
    private let candidates: KeyFilter

    init(fields: [String]) {
        let all = fields.map(FieldPath.init)
        keys = all.filter { $0.dots.isEmpty }
        paths = all.filter { !$0.dots.isEmpty }
        candidates = KeyFilter(keys.map(\.text))
        unretainedKeys = keys.map { Unmanaged.passUnretained($0) }
    }

    override var fieldPaths: [FieldPath] { keys + paths }
    override var screenRole: ScreenRole? { .removes(keys + paths) }

    override func apply(_ record: inout FilterRecord, spare: inout FilterRecord, nowMs: Int64) -> Bool {
        // Planned on what is written; the plan is left pending for the next filter or the enricher.
        // Tested here: nearly always nothing is pending, and the call cost more than the test.
        if !record.pending.isEmpty { record.materialize(spare: &spare) }
        if planOnePass(&record) {
            if record.pending.count > 1 { record.pending.insertionSort { $0.index < $1.index } }
            return true
        }
        record.pending.removeAll()
        // Duplicated keys, or two paths through one member: one edit at a time.
        removeKeys(&record, spare: &spare)
        for path in paths { record.removeAll(path, spare: &spare) }
        return true
    }

    /// Plans the removal as pending changes to distinct top-level members, in no particular order (into
    /// the record's own list, empty when this is called, whose storage is reused); false when it takes
    /// more than one rewrite.
    private func planOnePass(_ record: inout FilterRecord) -> Bool {
        // From the key index straight into the list; a search of the members reads the record whole,
        // so its drops go through a list of their own.
        if !appendIndexedKeyDrops(record.keyIndex, to: &record.pending) {
            var changes: FilterRecord.Changes = []
            swap(&changes, &record.pending)
            appendSearchedKeyDrops(record, to: &changes)
            swap(&changes, &record.pending)
        }
        for path in paths {
            switch record.lookupNested(path) {
            case .missing: continue
            case .found(let field):
                if field.duplicated || record.pending.contains(where: { $0.index == field.top }) { return false }
                record.pending.append(FilterRecord.MemberEdit(index: field.top, change: .cut(field.cut)))
                continue
            case .notApplicable: break
            }
            guard let location = record.locate(path, forEditing: true) else { continue }
            if location.duplicated || record.pending.contains(where: { $0.index == location.top }) { return false }
            let cut = record.cutOut(location)
            record.pending.append(FilterRecord.MemberEdit(index: location.top, change: cut.map { .cut($0) } ?? .drop))
        }
        return true
    }

    /// A drop for each top-level member whose key is one of `keys`, every duplicate included, in the
    /// order of the members. The key index's answer inline, given the index alone: a call of a method
    /// with the record, which the filters hold `inout`, copied all of it to the stack first.
    @inline(__always)
    private func appendKeyDrops(_ record: FilterRecord, to changes: inout FilterRecord.Changes) {
        let start = changes.count
        if appendIndexedKeyDrops(record.keyIndex, to: &changes) {
            if changes.count - start > 1 { changes.insertionSort(from: start) { $0.index < $1.index } }
            return
        }
        appendSearchedKeyDrops(record, to: &changes)
    }

    /// `appendKeyDrops` by a search of the members, in their order.
    private func appendSearchedKeyDrops(_ record: FilterRecord, to changes: inout FilterRecord.Changes) {
        let keys = self.keys
        let candidates = self.candidates
        record.bytes.withUnsafeBytes { raw in
            for (index, member) in record.members.enumerated()
            where (member.keyIsEscaped || candidates.mayMatch(member.key.count, raw[member.key.lowerBound]))
                && keys.contains(where: { key in key.text.withUnsafeBytes { FilterRecord.keyEquals(member, $0, raw) } })
            {
                changes.append(FilterRecord.MemberEdit(index: index, change: .drop))
            }
        }
    }

    /// `appendKeyDrops` from the record's key index, in the order of `keys`: false (nothing appended)
    /// when it cannot tell, or a key is duplicated. Inline and appended, the callers sorting: a call, and
    /// an insertion in the members' order, cost more than the rest of the plan.
    @inline(__always)
    private func appendIndexedKeyDrops(_ index: FilterRecord.KeyIndex, to changes: inout FilterRecord.Changes) -> Bool {
        guard index.isValid else { return false }
        let start = changes.count
        var seen: UInt32 = 0
        for key in unretainedKeys {
            let number = key._withUnsafeGuaranteedRef { $0.wholeKey }
            guard number >= 0, index.count(number) <= 1 else {
                changes.removeLast(from: start)
                return false
            }
            // A key named twice is dropped once.
            guard seen & (1 << number) == 0, let member = index.last(number) else { continue }
            seen |= 1 << number
            changes.append(FilterRecord.MemberEdit(index: member, change: .drop))
        }
        return true
    }

    private func removeKeys(_ record: inout FilterRecord, spare: inout FilterRecord) {
        var changes: FilterRecord.Changes = []
        appendKeyDrops(record, to: &changes)
        guard !changes.isEmpty else { return }
        spare.rewrite(record, changes, values: UnsafeRawBufferPointer(start: nil, count: 0))
        swap(&record, &spare)
    }
}

extension RemoveFilterConfig: FilterMaking {
    func makeFilter() throws(PCRERegex.CompileError) -> RecordFilter { RemoveFilter(fields: fields) }
}
