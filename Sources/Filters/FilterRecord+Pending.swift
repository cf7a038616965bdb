import Records

/// Changes to top-level members that are not written yet. The filters that change a record's top-level
/// members (remove, redact) leave their changes here; a filter that must read a changed member, or edit
/// some other way, has them written first, and the enricher writes what is left straight into the
/// batch: a record that two filters change is copied once, not three times.
extension FilterRecord {
    /// Writes the pending changes; `spare` takes the old version.
    mutating func materialize(spare: inout FilterRecord) {
        guard !pending.isEmpty else { return }
        replacements.withUnsafeBytes { spare.rewrite(self, pending, values: $0) }
        swap(&self, &spare)
        spare.clearPending()
    }

    func hasPending(at index: Int) -> Bool { pending.contains { $0.index == index } }

    /// Adds a replacement of the member at `index` by the bytes appended to `replacements` since
    /// `start`; nothing when none were.
    mutating func addReplacement(at index: Int, since start: Int) {
        guard replacements.count > start else { return }
        addPending(MemberEdit(index: index, change: .replace(start..<replacements.count)))
    }

    /// Adds a change, in index order; a later change of the same member replaces the earlier one.
    mutating func addPending(_ edit: MemberEdit) {
        // Most go at the end: the filters' changes come in the members' order, more or less.
        if pending.isEmpty || pending[pending.count &- 1].index < edit.index {
            pending.append(edit)
            return
        }
        // The last change is at or past the edit's member, so the search finds one.
        let at = pending.firstIndex { $0.index >= edit.index } ?? pending.count
        if at < pending.count && pending[at].index == edit.index { pending[at] = edit } else { pending.insert(edit, at: at) }
    }

    /// The range of the value at `path`, for reading, pending changes written first if the path goes
    /// through a member they change. Inline, as `valueRange`.
    @inline(__always)
    mutating func readableValueRange(_ path: FieldPath, spare: inout FilterRecord) -> Range<Int>? {
        if !pending.isEmpty { materializeIfPending(path, spare: &spare) }
        // From the key index field: through a method of the record, the record was copied.
        if let found = keyIndex.topMember(path) { return found.index.map { members[$0].value } }
        return valueRange(path)
    }

    private mutating func materializeIfPending(_ path: FieldPath, spare: inout FilterRecord) {
        if let location = locate(path), hasPending(at: location.top) { materialize(spare: &spare) }
    }

    /// Whether the record, pending changes counted, has a member left.
    /// (A `mutating get`, as `write`: the record by address, not copied.)
    package var hasMembersLeft: Bool {
        @inline(__always) mutating get {
            // Fewer changes than members: some member is kept whatever they are.
            if members.count > pending.count { return true }
            return members.count
                > pending.reduce(0) { count, edit in
                    if case .drop = edit.change { return count + 1 }
                    return count
                }
        }
    }

    /// The record with the pending changes, appended to `out`.
    package func write(into out: inout [UInt8]) {
        if pending.isEmpty {
            bytes.withUnsafeBytes { out.appendBytes($0) }
            return
        }
        Self.write(bytes, members, pending, replacements, closing: nil, into: &out)
    }

    /// `write` with `closing` in place of the object's closing brace (the enricher's fields and the
    /// record's end), all in the one append of the record's pieces. `mutating` although it changes
    /// nothing: it takes the record by address, where a call on the value copied all of it first.
    package mutating func write(into out: inout [UInt8], closingWith closing: UnsafeRawBufferPointer) {
        if pending.isEmpty {
            bytes.withUnsafeBytes { raw in
                out.append(addingCapacity: raw.count &- 1 &+ closing.count) { span in
                    span.withUnsafeMutableBufferPointer { room, initialized in
                        guard let base = room.baseAddress else { return }
                        var writer = PieceWriter(base: base + initialized)
                        // Not `dropLast()`: a call of the generic slice code for every record.
                        writer.put(UnsafeRawBufferPointer(start: raw.baseAddress, count: raw.count &- 1))
                        writer.put(closing)
                        initialized += writer.count
                    }
                }
            }
            return
        }
        Self.write(bytes, members, pending, replacements, closing: closing, into: &out)
    }

    /// `write` with the record's arrays as arguments: the closures borrow them, where reading them from
    /// `self` in nested closures copied each one (a retain, and a release after).
    private static func write(
        _ bytes: RecordBytes, _ members: MemberList, _ pending: Changes, _ replacements: [UInt8], closing: UnsafeRawBufferPointer?,
        into out: inout [UInt8]
    ) {
        var unused = MemberList()
        bytes.withUnsafeBytes { raw in
            replacements.withUnsafeBytes {
                Self.writeObject(raw, members, pending, values: $0, closing: closing, into: &out, recording: &unused, record: false)
            }
        }
    }
}
