import Configuration
import Filters
import Records

/// The enricher's path when filters are configured: the line becomes a `FilterRecord` (the application's
/// object, or our `{"message":…}` around a line that is not one), the filters run on it, and what they
/// keep is enriched as on the path without filters. Kept apart so that path stays as it was.
extension Enricher {
    func encodeFiltered(_ line: Line, partial: Bool, filters: FilterChain, into batch: inout RecordBatch) -> Outcome {
        let outcome: Outcome
        switch line {
        case .complete(let line):
            guard let bytes = Self.content(of: line) else { return .empty }
            if let screen, parser == nil, !readsText,
                let screened = encodeScreened(bytes, partial: partial, filters: filters, screen: screen, into: &batch)
            {
                return screened
            }
            if let parser, let parsed = loadParsed(bytes, parser: parser, filters: filters) {
                outcome = parsed
            } else if readsText {
                filterRecord.loadOwn(message: bytes, flags: "")
                outcome = .record
            } else if filterRecord.load(object: bytes, slots: &memberSlots, keys: filters.keys, nested: filters.nested, copying: false) {
                outcome = .record
            } else {
                filterRecord.loadOwn(message: bytes, flags: ",\"parse_error\":true")
                outcome = .parseError
            }
        case .truncated(let head, let originalBytes):
            filterRecord.loadOwn(message: head, flags: Self.truncatedFlags(originalBytes))
            outcome = .truncated
        }
        // A dropped record is counted by the chain; its line still counts as what it was.
        guard filters.apply(&filterRecord) else { return outcome }
        if !appendFiltered(&filterRecord, partial: partial, into: &batch.bytes) {
            batch.bytes.append(UInt8(ascii: "}"))
            batch.bytes.append(0x0A)
        }
        batch.recordEnds.append(batch.bytes.count)
        return outcome
    }

    /// A line decided by the chain's screen on the screen's scan (`FilterScreen`), the enricher's one
    /// scan of it: dropped and counted, written as `encodeLine` writes it, or written with the
    /// screen's changes as `appendFiltered` writes the chain's record; nil, with nothing written, for a
    /// line the chain takes (not a plain object, or an edited key twice).
    @inline(__always)
    private func encodeScreened(
        _ bytes: UnsafeRawBufferPointer, partial: Bool, filters: FilterChain, screen: Unmanaged<FilterScreen>, into batch: inout RecordBatch
    ) -> Outcome? {
        let (object, watched) = screen._withUnsafeGuaranteedRef { $0.scan(bytes) }
        // A plain line needs no repair and has no escaped key.
        guard let object, object.isPlain, watched >= 0 else {
            screen._withUnsafeGuaranteedRef { $0.forget() }
            return nil
        }
        let merge = !wraps
        var found: UInt64 = 0
        var hasPartialKey = false
        if watched > 0 { found = watchedFieldBits(watched, of: bytes, screen: screen, &hasPartialKey) }
        switch screen._withUnsafeGuaranteedRef({ $0.decide(in: bytes) }) {
        case .chain: return nil
        case .drop(let index):
            filters.countDrop(at: index)
            return .record
        case .keep:
            appendObject(object, of: bytes, found: found, hasPartialKey: hasPartialKey, partial: partial, merge: merge, into: &batch.bytes)
            closeRecord(in: &batch)
        case .edited:
            appendEdited(object, of: bytes, screen: screen, found: found, hasPartialKey: hasPartialKey, partial: partial, into: &batch.bytes)
            batch.recordEnds.append(batch.bytes.count)
        }
        return .record
    }

    /// A line the screen changed, with the enrichment fields and its closing `}\n`, as `appendFiltered`
    /// writes the chain's record with the same changes pending: the screen removes no field's key
    /// (`Enricher.screen`), so `found` holds for what is written.
    private func appendEdited(
        _ object: JSONScanner.Object, of bytes: UnsafeRawBufferPointer, screen: Unmanaged<FilterScreen>, found: UInt64, hasPartialKey: Bool,
        partial: Bool, into out: inout [UInt8]
    ) {
        screen._withUnsafeGuaranteedRef { screen in
            let hasMembers = object.memberCount > screen.dropCount
            if wraps {
                out.append(contentsOf: "{\"raw\":".utf8)
                screen.writeEdited(bytes, object: object.range, closing: nil, into: &out)
                if partial { appendFields(into: &out, partial: true, reserved: [Self.rawKey]) } else { out.append(contentsOf: suffix) }
            } else if found == 0, !partial {
                screen.writeEdited(bytes, object: object.range, closing: closedSuffix(hasMembers: hasMembers), into: &out)
                return
            } else {
                screen.writeEdited(bytes, object: object.range, closing: nil, into: &out)
                out.removeLast()
                appendMergedFields(into: &out, hasMembers: hasMembers, found: found, partial: partial, hasPartialKey: hasPartialKey)
            }
            out.append(UInt8(ascii: "}"))
            out.append(0x0A)
        }
    }

    /// The bits of the fields among the `count` members the screen's scan kept (`watchedMembers`, in
    /// merge mode only: the enricher marks its keys there then), as `encodeLine` finds them.
    @inline(never)
    private func watchedFieldBits(_ count: Int, of bytes: UnsafeRawBufferPointer, screen: Unmanaged<FilterScreen>, _ isPartial: inout Bool) -> UInt64
    {
        let members = UnsafeBufferPointer(start: screen._withUnsafeGuaranteedRef { $0.watchedMembers }, count: count)
        var found: UInt64 = 0
        for member in members where keyFilter.mayMatch(member.keyCount, bytes[member.key.lowerBound]) {
            found |= fieldBits(UnsafeRawBufferPointer(rebasing: bytes[member.key]), escaped: false, &isPartial)
        }
        return found
    }

    /// The record through its source's parser into `filterRecord`; nil when the parser leaves it to
    /// the path without one (a JSON line that is not an object, or has no message string).
    private func loadParsed(_ bytes: UnsafeRawBufferPointer, parser: LineParser, filters: FilterChain) -> Outcome? {
        let (parsed, failed) = parse(bytes, with: parser, into: &parsedObject)
        switch parsed {
        case .object(let own):
            guard
                parsedObject.withUnsafeBytes({
                    filterRecord.load(object: $0, slots: &memberSlots, keys: filters.keys, nested: filters.nested, copying: true)
                })
            else { return nil }
            // Parsed text is our record: merged with the fields in either mode, as a text line is.
            if own { filterRecord.isOwn = true }
            return failed ? .parseError : .record
        case .textFailed:
            filterRecord.loadOwn(message: bytes, flags: ",\"parse_error\":true")
            return .parseError
        case .unchanged: return nil
        }
    }

    /// The filtered record with the enrichment fields: nested under "raw" in wrap mode (the application's
    /// objects only), else with the fields spliced in before its closing brace, except those whose keys
    /// it has. True when it closed the record (`}\n`) itself, as it does with the suffix (the record's
    /// pieces, the suffix and the closing bytes in one append, as `appendWithSuffix`); else the caller
    /// closes it.
    /// (`record` is `filterRecord`, passed `inout`: read from `self`, it was copied, a retain of each of
    /// its arrays, and moving it out to a local and back destroyed the empty record left in its place.)
    private func appendFiltered(_ record: inout FilterRecord, partial: Bool, into out: inout [UInt8]) -> Bool {
        if wraps && !record.isOwn {
            out.append(contentsOf: "{\"raw\":".utf8)
            record.write(into: &out)
            if partial { appendFields(into: &out, partial: true, reserved: [Self.rawKey]) } else { out.append(contentsOf: suffix) }
            return false
        }
        var found: UInt64 = 0
        var hasPartialKey = false
        let candidates = keyFilter
        // `load` looked at every key with the same filter: none of them can collide.
        if record.mayHoldWatchedKey {
            record.bytes.withUnsafeBytes { raw in
                // The pending changes are in index order: one cursor finds the members they drop.
                var next = 0
                for (index, member) in record.members.enumerated() {
                    if next < record.pending.count && record.pending[next].index == index {
                        next += 1
                        if case .drop = record.pending[next - 1].change { continue }
                    }
                    guard member.keyIsEscaped || candidates.mayMatch(member.key.count, raw[member.key.lowerBound]) else { continue }
                    found |= fieldBits(UnsafeRawBufferPointer(rebasing: raw[member.key]), escaped: member.keyIsEscaped, &hasPartialKey)
                }
            }
        }
        let hasMembers = record.hasMembersLeft
        if !wraps, found == 0, !partial {
            record.write(into: &out, closingWith: closedSuffix(hasMembers: hasMembers))
            return true
        }
        // Everything but the closing brace; the fields go in before it.
        record.write(into: &out)
        out.removeLast()
        if !wraps {
            appendMergedFields(into: &out, hasMembers: hasMembers, found: found, partial: partial, hasPartialKey: hasPartialKey)
        } else {
            // Our own record in wrap mode: its keys win, and the wrap suffix would leave out a "raw" field.
            appendFields(into: &out, partial: partial && !hasPartialKey, reserved: [], needsComma: hasMembers, skipping: found)
        }
        return false
    }
}
