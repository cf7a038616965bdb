import Glibc
import Records

/// A chain decided on the enricher's own scan of a plain line, without a `FilterRecord`: the filters
/// that read top-level fields (`drop`, `keep`, `sample`, `throttle`; the commonest chain, debug lines
/// away) and those that edit them (`remove` of top-level keys and of a field one level down,
/// `redact` of top-level keys). Its scan notes the last member of each key they name (`scan`); the
/// conditions are tested on those values in the chain's order (`decide`), each filter deciding as its
/// `apply` does (`RecordFilter.keeps`); a kept line is written as on the path without filters, or, when
/// an edit changed it, in pieces around the changed members exactly as the chain writes a record with
/// pending changes (`writeEdited`, `FilterRecord.writeObject`).
///
/// Only for a plain line (`JSONScanner.Object.isPlain`): no escaped key can name a field there, and a
/// string's text is its bytes. A line where an edited key comes twice goes to the chain, which edits
/// every duplicate; so does any other line than a plain object, and every line of a source with a
/// parser or in the text format. The differential tests (`FilterScreenTests`, the fuzz target
/// `filters`) hold the two to the same output.
package final class FilterScreen {
    /// One filter's test, read without a retain: the filter, and its condition's set or pattern, lent
    /// (`filters` holds them).
    private struct Test {
        /// The number of the key it reads (`numbering`'s); -1 for a filter without a condition.
        var key: Int
        let set: Unmanaged<ScalarSet>?
        let regex: Unmanaged<PCRERegex>?
        /// A drop or keep, decided here: its matches kept or not. Any other filter decides by `keeps`.
        let isMatch: Bool
        let keepsMatches: Bool
        let filter: Unmanaged<RecordFilter>
        /// Its place in the chain, where the drops are counted.
        let position: Int
    }

    /// One field an edit filter changes: the top-level member named `key` (the path's whole text)
    /// removed, or its value redacted by `redactor` (its `appendScreenedValue`); for a path with a dot, when no top-level key is the
    /// whole path, the member `leaf` (bytes of `leaves`) removed from the object of the member named
    /// `parent`, as the chain reads such a path (`FieldPath`).
    private struct Edit {
        var key: Int
        let keyLength: Int
        var parent: Int
        let parentLength: Int
        let leaf: Range<Int>
        let redactor: Unmanaged<RecordFilter>?
    }

    /// One change to a kept line's top-level member: `edit` made it; ranges into the line.
    private struct Change {
        var edit: Int
        var key: Range<Int>
        var value: Range<Int>
        var change: FilterRecord.MemberChange
    }

    /// What `decide` made of a line.
    package enum Verdict: Equatable {
        /// Not one the screen decides (an edited key comes twice): the chain's.
        case chain
        /// Dropped by the filter at this place in the chain.
        case drop(Int)
        /// Kept as it is.
        case keep
        /// Kept with the changes `writeEdited` writes.
        case edited
    }

    private let tests: UnsafeMutableBufferPointer<Test>
    /// The edits are planned before the tests: a line the chain takes must leave a sample's or a
    /// throttle's state as it was. Without such a filter only the kept lines are planned.
    private let plansFirst: Bool
    private let edits: UnsafeMutableBufferPointer<Edit>
    /// The nested removals' leaf keys, in memory of the screen's own (an array read in the nested
    /// lookup was reached through a closure).
    private let leaves: UnsafeMutableRawBufferPointer
    /// What the tests and edits lend: the filters, and so their conditions.
    private let filters: [RecordFilter]
    /// The top-level keys an edit may take away (each removal's whole path), for the enricher: a line
    /// that loses one of its fields' keys gets the field back, which the screen does not write.
    package let removedKeys: [[UInt8]]
    /// The keys by their slot, as `FilterRecord.load` finds the chain's (`FilterKeys`), which numbers
    /// them: `values`, the tests and the edits use its numbers.
    private let numbering: FilterKeys
    /// The members of the line's objects one level down, which `scan` notes when an edit removes a
    /// nested field (nil without one): the field is found among them as the chain finds it
    /// (`FilterRecord.notedMatch`), not by a walk of its object.
    private let nestedStore: NestedMemberStore?
    /// Its members, reached without a retain of the store.
    private let nested: UnsafeMutablePointer<NestedMembers>?
    /// Where `scan` keeps the members whose keys may be the enricher's.
    package let watchedMembers: UnsafeMutablePointer<JSONScanner.Member>
    /// The last member of each key on the line scanned: its key's first byte, its value as (start, end)
    /// in the line's bytes, the line it was noted on (a member noted before the current `line` is not
    /// the line's: counting lines spares forgetting every key before each scan), and whether the key
    /// came more than once.
    private let values: UnsafeMutablePointer<Noted>
    private var line: UInt64 = 1
    /// The chain's `nowMs`, set with it once a batch.
    var nowMs: Int64 = 0

    private typealias Noted = (keyStart: Int, start: Int, end: Int, line: UInt64, duplicated: Bool)

    /// The changes of the line decided last, in the members' order; their new values in `replacements`.
    private let changes: UnsafeMutablePointer<Change>
    private var changeCount = 0
    /// How many of them drop their member.
    package private(set) var dropCount = 0
    /// How many of them are redactions `redact` is still to make.
    private var redactionCount = 0
    /// Kept from line to line, and emptied only when it has grown past 64 KiB: emptying it cost a call
    /// or two for every line. The line's own begin at `lineReplacements`.
    private var replacements: [UInt8] = []
    private var lineReplacements = 0

    /// The screen for `filters`, or nil when one of them does something else (rename, redact of every
    /// string or of a nested field), reads a field that is not a top-level key (a key without dots), or
    /// removes a path with more than one dot; when two edits may change the same member; or when a
    /// condition reads a key an edit before it may change.
    init?(_ filters: [RecordFilter]) {
        var tests: [Test] = []
        var edits: [Edit] = []
        var leaves: [UInt8] = []
        var keys: [[UInt8]] = []
        var removed: [[UInt8]] = []
        // The top-level keys the edits so far may change.
        var touched: [[UInt8]] = []
        func number(_ key: [UInt8]) -> Int {
            if let index = keys.firstIndex(of: key) { return index }
            keys.append(key)
            return keys.count - 1
        }
        for (position, filter) in filters.enumerated() {
            let unretained = Unmanaged.passUnretained(filter)
            switch filter.screenRole {
            case nil: return nil
            case .redacts(let paths):
                guard !paths.isEmpty else { return nil }
                for path in paths {
                    let text = path.text
                    guard !text.isEmpty, path.dots.isEmpty, !touched.contains(text) else { return nil }
                    touched.append(text)
                    edits.append(
                        Edit(key: number(text), keyLength: text.count, parent: -1, parentLength: 0, leaf: 0..<0, redactor: unretained))
                }
            case .removes(let paths):
                for path in paths {
                    let text = path.text
                    guard !text.isEmpty, !touched.contains(text), path.dots.count <= 1 else { return nil }
                    touched.append(text)
                    removed.append(text)
                    guard let dot = path.dots.first else {
                        edits.append(Edit(key: number(text), keyLength: text.count, parent: -1, parentLength: 0, leaf: 0..<0, redactor: nil))
                        continue
                    }
                    let parent = Array(text[..<dot])
                    let leaf = text[(dot + 1)...]
                    guard !parent.isEmpty, !leaf.isEmpty, !touched.contains(parent) else { return nil }
                    touched.append(parent)
                    let start = leaves.count
                    leaves += leaf
                    edits.append(
                        Edit(
                            key: number(text), keyLength: text.count, parent: number(parent), parentLength: parent.count,
                            leaf: start..<leaves.count, redactor: nil))
                }
            case .decides(let condition):
                // A drop or keep is decided inline, without the call of `keeps`.
                let match = filter as? MatchFilter
                guard let condition else {
                    tests.append(Test(key: -1, set: nil, regex: nil, isMatch: false, keepsMatches: false, filter: unretained, position: position))
                    continue
                }
                let text = condition.path.text
                guard !text.isEmpty, condition.path.dots.isEmpty, !touched.contains(text) else { return nil }
                tests.append(
                    Test(
                        key: number(text), set: condition.unretainedSet, regex: condition.unretainedRegex, isMatch: match != nil,
                        keepsMatches: match?.keepsMatches ?? false, filter: unretained, position: position))
            }
        }
        guard !tests.isEmpty || !edits.isEmpty else { return nil }
        // Numbered as paths: a key's dotted text numbers its part before the dot too, which is one of
        // `keys` (a nested removal's parent).
        let paths = keys.map { FieldPath(String(decoding: $0, as: UTF8.self)) }
        let numbering = FilterKeys(numbering: paths)
        guard paths.allSatisfy({ $0.wholeKey >= 0 }) else { return nil }
        for index in tests.indices where tests[index].key >= 0 { tests[index].key = paths[tests[index].key].wholeKey }
        for index in edits.indices {
            edits[index].key = paths[edits[index].key].wholeKey
            if edits[index].parent >= 0 { edits[index].parent = paths[edits[index].parent].wholeKey }
        }
        self.numbering = numbering
        plansFirst = !edits.isEmpty && tests.contains { !$0.isMatch }
        self.tests = .allocate(capacity: tests.count)
        _ = self.tests.initialize(from: tests)
        self.edits = .allocate(capacity: edits.count)
        _ = self.edits.initialize(from: edits)
        changes = .allocate(capacity: edits.count)
        self.leaves = .allocate(byteCount: max(leaves.count, 1), alignment: 1)
        self.leaves.copyBytes(from: leaves)
        (self.filters, removedKeys) = (filters, removed)
        nestedStore = edits.contains { $0.parent >= 0 } ? NestedMemberStore() : nil
        nested = nestedStore?.members
        watchedMembers = .allocate(capacity: Self.watchedCapacity)
        values = .allocate(capacity: FilterKeys.capacity)
        values.initialize(repeating: (-1, -1, -1, 0, false), count: FilterKeys.capacity)
    }

    deinit {
        tests.deallocate()
        edits.deallocate()
        changes.deallocate()
        values.deallocate()
        watchedMembers.deallocate()
        leaves.deallocate()
    }

    /// Marks `keys` (the enricher's, in merge mode) for `scan` to keep the members that may have them.
    package func watch(_ keys: [[UInt8]]) { numbering.watch(keys) }

    /// The enricher's scan of a line when the screen decides: validates it as `JSONScanner.scanObject`
    /// does, notes the last member of each of the filters' keys (a later member with the same key
    /// replaces an earlier one: the last of duplicates counts), and keeps the members whose keys may be
    /// the ones `watch` marked, the first `watchedCapacity` in `watchedMembers`; returns the object and
    /// how many such members it has (-1 for more than it keeps). The keys are told from the rest inline, by one byte per member,
    /// as `FilterRecord.load` tells the chain's (`FilterKeys`): a call for each cost some 130
    /// instructions. Escaped keys are looked up as they are written: a line that has one is not plain,
    /// and goes to the chain.
    @inline(__always)
    package func scan(_ bytes: UnsafeRawBufferPointer) -> (object: JSONScanner.Object?, watched: Int) {
        let line = line
        let lookup = numbering.lookup
        let (values, watchedMembers) = (values, watchedMembers)
        var watched = 0
        let object = JSONScanner.scanObject(bytes, nestedIfAny: nested) { member in
            let entry = lookup.slots[Int(KeyFilter.slot(member.keyCount, bytes[member.key.lowerBound]))]
            guard entry != 0 else { return }
            if entry & FilterKeys.watched != 0 {
                if watched < Self.watchedCapacity { watchedMembers[watched] = member }
                watched &+= 1
            }
            guard entry & 0x0F != 0 else { return }
            let number = lookup.number(of: UnsafeRawBufferPointer(rebasing: bytes[member.key]), entry: entry)
            guard number >= 0 else { return }
            values[number] = (member.key.lowerBound, member.value.lowerBound, member.value.upperBound, line, values[number].line == line)
        }
        // Past the capacity, -1: the enricher then leaves the line to the chain.
        return (object, watched <= Self.watchedCapacity ? watched : -1)
    }

    package static let watchedCapacity = 16

    /// What the filters make of the line whose members were noted (`bytes`: its bytes): a missing field
    /// never matches; the filters that keep state move it as their `apply` would. The next line's
    /// members are noted afresh.
    package func decide(in bytes: UnsafeRawBufferPointer) -> Verdict {
        defer { line &+= 1 }
        if plansFirst && !planEdits(in: bytes) { return .chain }
        for index in tests.indices {
            let test = tests[index]
            var holds = false
            if test.key >= 0 {
                let value = values[test.key]
                holds =
                    value.line == line
                    && FieldCondition.test(
                        UnsafeRawBufferPointer(rebasing: bytes[value.start..<value.end]), plain: true, set: test.set, regex: test.regex)
            }
            let keeps =
                test.isMatch ? holds == test.keepsMatches : test.filter._withUnsafeGuaranteedRef { $0.keeps(conditionHolds: holds, nowMs: nowMs) }
            if !keeps { return .drop(test.position) }
        }
        guard edits.count > 0 else { return .keep }
        if !plansFirst && !planEdits(in: bytes) { return .chain }
        guard changeCount > 0 else { return .keep }
        if redactionCount > 0 {
            guard redact(in: bytes) else { return .keep }
        } else {
            lineReplacements = replacements.count
        }
        return .edited
    }

    /// Forgets the members noted, for a line the screen did not decide.
    package func forget() { line &+= 1 }

    /// The removals of the line's members into `changes`, and a place for each redaction (made by
    /// `redact` once the line is kept); false when an edited key comes twice, at the top level or in
    /// the nested object, where the chain edits every copy.
    @inline(__always)
    private func planEdits(in bytes: UnsafeRawBufferPointer) -> Bool {
        changeCount = 0
        dropCount = 0
        redactionCount = 0
        for index in edits.indices {
            let edit = edits[index]
            let whole = values[edit.key]
            if whole.line == line {
                // The whole path is a top-level key: the chain finds it before any nested field.
                if whole.duplicated { return false }
                let key = whole.keyStart..<(whole.keyStart &+ edit.keyLength)
                if edit.redactor == nil { dropCount &+= 1 } else { redactionCount &+= 1 }
                append(Change(edit: index, key: key, value: whole.start..<whole.end, change: edit.redactor == nil ? .drop : .replace(0..<0)))
                continue
            }
            guard edit.parent >= 0 else { continue }
            let parent = values[edit.parent]
            // Of duplicates the last is read: the chain looks no further when it is not an object.
            guard parent.line == line, bytes[parent.start] == UInt8(ascii: "{") else { continue }
            // A line with more such members than the scan had room for is the chain's (room for more
            // on the next line).
            guard let nested, nested.pointee.isComplete else {
                nestedStore?.grow()
                return false
            }
            let leaf = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(leaves)[edit.leaf])
            let match = FilterRecord.notedMatch(named: leaf, in: parent.start..<parent.end, noted: nested.pointee, bytes)
            guard match.found >= 0 else { continue }
            if match.matches > 1 { return false }
            let key = parent.keyStart..<(parent.keyStart &+ edit.parentLength)
            append(Change(edit: index, key: key, value: parent.start..<parent.end, change: .cut(match.cut)))
        }
        return true
    }

    private func append(_ change: Change) {
        // In the members' order: a few changes at most, mostly in order already.
        var at = changeCount
        while at > 0 && changes[at &- 1].key.lowerBound > change.key.lowerBound {
            changes[at] = changes[at &- 1]
            at &-= 1
        }
        changes[at] = change
        changeCount &+= 1
    }

    /// The planned redactions made, those that change nothing taken out; true when a change is left.
    @inline(__always)
    private func redact(in bytes: UnsafeRawBufferPointer) -> Bool {
        if replacements.count > 1 << 16 { replacements.removeAll(keepingCapacity: true) }
        lineReplacements = replacements.count
        var kept = 0
        for index in 0..<changeCount {
            if let redactor = edits[changes[index].edit].redactor {
                let start = replacements.count
                let value = UnsafeRawBufferPointer(rebasing: bytes[changes[index].value])
                guard redactor._withUnsafeGuaranteedRef({ $0.appendScreenedValue(value, to: &replacements) }) else { continue }
                changes[index].change = .replace(start..<replacements.count)
            }
            if kept != index { changes[kept] = changes[index] }
            kept &+= 1
        }
        changeCount = kept
        return kept > 0
    }

    /// The object at `object` of the line `bytes` with the changes `decide` planned, appended to `out`,
    /// with `closing` in place of its closing brace when given: the pieces `FilterRecord.writeObject`
    /// writes for the same record and changes (kept members between two changes in one piece, as they
    /// were; a changed member written `"key":value`; one comma between pieces). Where the line has those
    /// very bytes (no space around a changed member's comma and colon), they are copied from it as one
    /// piece: the kept members, the comma, the key and the start of the value.
    package func writeEdited(_ bytes: UnsafeRawBufferPointer, object: Range<Int>, closing: UnsafeRawBufferPointer?, into out: inout [UInt8]) {
        let end = Self.lastValueEnd(bytes, closingBrace: object.upperBound &- 1)
        let changes = UnsafeBufferPointer(start: changes, count: changeCount)
        let replaced = replacements.count &- lineReplacements
        // Without a replacement (a line with removals only: a replacement is a JSON value, never
        // empty), not reached at all; else in place (a mutable access): read through a closure, the
        // property was retained and released, and a local swapped in and out was released.
        guard replaced > 0 else {
            return Self.write(
                bytes, object: object, end: end, changes: changes, values: UnsafeRawBufferPointer(start: nil, count: 0), replaced: 0,
                closing: closing, into: &out)
        }
        replacements.withUnsafeMutableBytes { values in
            Self.write(
                bytes, object: object, end: end, changes: changes, values: UnsafeRawBufferPointer(values), replaced: replaced, closing: closing,
                into: &out)
        }
    }

    /// `writeEdited`'s pieces: `values` holds the replacements, `replaced` bytes of them the line's.
    @inline(__always)
    private static func write(
        _ bytes: UnsafeRawBufferPointer, object: Range<Int>, end: Int, changes: UnsafeBufferPointer<Change>, values: UnsafeRawBufferPointer,
        replaced: Int, closing: UnsafeRawBufferPointer?, into out: inout [UInt8]
    ) {
        out.append(addingCapacity: object.count &+ replaced &+ 2 &+ (closing?.count ?? 0)) { span in
            span.withUnsafeMutableBufferPointer { room, initialized in
                guard let base = room.baseAddress else { return }
                var writer = FilterRecord.PieceWriter(base: base + initialized)
                writer.put(UInt8(ascii: "{"))
                var first = true
                // The first kept member's opening quote; past `end` when none is left.
                var position = Self.skipSpace(bytes, from: object.lowerBound &+ 1)
                for change in changes {
                    let quote = change.key.lowerBound &- 1
                    let keeps: Bool
                    if case .drop = change.change { keeps = false } else { keeps = true }
                    // The line writes `"key":` without spaces (most lines): copied from the line
                    // with what stands before it, as one piece from `run`.
                    let tight = change.value.lowerBound == change.key.upperBound &+ 2
                    var run = -1
                    if position < quote {
                        if !first { writer.put(UInt8(ascii: ",")) }
                        first = false
                        let pieceEnd = Self.valueEnd(before: quote, in: bytes)
                        // The kept members, their comma and the key: one piece.
                        if keeps && tight && pieceEnd &+ 1 == quote {
                            run = position
                        } else {
                            writer.put(UnsafeRawBufferPointer(rebasing: bytes[position..<pieceEnd]))
                        }
                    }
                    position = Self.keyQuote(after: change.value.upperBound, in: bytes, end: end)
                    guard keeps else { continue }
                    if run < 0 {
                        if !first { writer.put(UInt8(ascii: ",")) }
                        if tight {
                            run = quote
                        } else {
                            writer.put(UInt8(ascii: "\""))
                            writer.put(UnsafeRawBufferPointer(rebasing: bytes[change.key]))
                            writer.put(UInt8(ascii: "\""))
                            writer.put(UInt8(ascii: ":"))
                            run = change.value.lowerBound
                        }
                    }
                    first = false
                    switch change.change {
                    case .drop: break
                    case .replace(let range):
                        writer.put(UnsafeRawBufferPointer(rebasing: bytes[run..<change.value.lowerBound]))
                        writer.put(UnsafeRawBufferPointer(rebasing: values[range]))
                    case .cut(let cut):
                        writer.put(UnsafeRawBufferPointer(rebasing: bytes[run..<cut.lowerBound]))
                        writer.put(UnsafeRawBufferPointer(rebasing: bytes[cut.upperBound..<change.value.upperBound]))
                    }
                }
                if position < end {
                    if !first { writer.put(UInt8(ascii: ",")) }
                    writer.put(UnsafeRawBufferPointer(rebasing: bytes[position..<end]))
                }
                if let closing { writer.put(closing) } else { writer.put(UInt8(ascii: "}")) }
                initialized &+= writer.count
            }
        }
    }

    // The separators of a valid object: whitespace, one comma between members.

    private static func isSpace(_ byte: UInt8) -> Bool { RecordMembers.isSpace(byte) }

    /// `RecordMembers.skipSpace` without its test of the end (a byte more a step, +3.6 M on the set):
    /// a valid object ends in a byte that is no space.
    private static func skipSpace(_ bytes: UnsafeRawBufferPointer, from index: Int) -> Int {
        var index = index
        while isSpace(bytes[index]) { index &+= 1 }
        return index
    }

    /// The end of the last member's value: the closing brace and the whitespace before it left out.
    private static func lastValueEnd(_ bytes: UnsafeRawBufferPointer, closingBrace: Int) -> Int {
        var index = closingBrace
        while isSpace(bytes[index &- 1]) { index &-= 1 }
        return index
    }

    /// The end of the value before the member whose key's opening quote is at `quote` (not the first).
    private static func valueEnd(before quote: Int, in bytes: UnsafeRawBufferPointer) -> Int {
        var index = quote
        while bytes[index &- 1] != UInt8(ascii: ",") { index &-= 1 }
        index &-= 1
        while isSpace(bytes[index &- 1]) { index &-= 1 }
        return index
    }

    /// The opening quote of the key after the value that ends at `valueEnd`; `end` for the last member.
    private static func keyQuote(after valueEnd: Int, in bytes: UnsafeRawBufferPointer, end: Int) -> Int {
        let index = skipSpace(bytes, from: valueEnd)
        return bytes[index] == UInt8(ascii: ",") ? skipSpace(bytes, from: index &+ 1) : end
    }
}
