import Glibc
import Records

/// A record between the filters: a JSON object's bytes and its top-level members, kept in step, so a
/// filter finds fields without scanning what the scanner already reported, and an edit writes the next
/// version with its members without scanning it again. Changes to top-level members can wait in
/// `pending` to be written once; a record the filters leave alone is not copied again.
package struct FilterRecord {
    package typealias Member = JSONScanner.Member

    package init() {}

    package var bytes = RecordBytes()
    /// Ranges into `bytes`, in order.
    package var members = MemberList()
    /// Our own record around a line that was not an object (`{"message":…}`), not the application's.
    package var isOwn = false
    /// Whether a top-level key may be one of the keys `load` was asked to watch (the enricher's fields):
    /// false only when `load` found none and no key was added since (removals and new values keep it).
    /// The enricher then has no colliding key to look for.
    package var mayHoldWatchedKey = true
    /// Changes to top-level members not written yet, in the order of their indices
    /// (`FilterRecord+Pending.swift`); `bytes` and `members` are the record before them.
    package var pending: Changes = []
    /// The new values of the pending replacements, which hold ranges into it: a change holds no array
    /// of its own, so the list is emptied without destroying its elements one by one, and a
    /// replacement is written here without an allocation of its own.
    package var replacements: [UInt8] = []
    /// Where the filters' keys are among `members` (`FilterKeys.swift`).
    package var keyIndex = KeyIndex()
    /// The members of the objects one level down, as the scan found them; nil once the members
    /// change, or when the scan did not note them all (`NestedMemberStore`).
    var nested: UnsafePointer<NestedMembers>?

    /// Where a field was found: the index of its top-level member, and for a nested field each object
    /// on the way down with its members (ranges into `bytes`) and the index within it.
    /// One object on the way down to a nested field: its members (ranges into the record) and the
    /// index of the one the path goes through. A struct, not a tuple: tuples of references are
    /// copied and destroyed through the runtime's generic witnesses.
    struct Level {
        var members: MemberList
        var index: Int
    }

    struct Location {
        var top: Int
        var nested: [Level] = []
        /// An earlier member of the same object has the same key: a lookup never sees it, but a
        /// removal or a redaction must take it too.
        var duplicated = false

        /// The index of the member found, in its own object.
        var leaf: Int {
            get { nested.last?.index ?? top }
            set {
                if nested.isEmpty { top = newValue } else { nested[nested.count - 1].index = newValue }
            }
        }
    }

    /// What an edit does at a location.
    enum Change {
        case remove
        case replace([UInt8])
        /// Adds `"key":value` at the end of the object at the location (the record itself without one).
        case append(key: [UInt8], value: [UInt8])
    }

    func value(at location: Location) -> Range<Int> {
        guard let last = location.nested.last else { return members[location.top].value }
        return last.members[last.index].value
    }

    // MARK: finding fields

    /// Where `path` is; `duplicated` is found out only for `forEditing`, since a lookup sees the last
    /// of duplicates anyway and most lookups only read.
    func locate(_ path: FieldPath, forEditing: Bool = false) -> Location? {
        bytes.withUnsafeBytes { raw in
            var nested: [Level] = []
            guard let index = Self.locate(path, from: 0, in: members, raw, below: &nested, index: keyIndex) else { return nil }
            var location = Location(top: index, nested: nested)
            if forEditing {
                if nested.isEmpty, let duplicated = topKeyIsDuplicated(path) {
                    location.duplicated = duplicated
                } else {
                    location.duplicated = Self.hasEarlierDuplicate(at: location, in: members, raw)
                }
            }
            return location
        }
    }

    /// The range of the value at `path`, for reading. The key index's answer inline: a call of a
    /// method on the record, which the filters hold `inout`, copied all of it to the stack first.
    @inline(__always)
    func valueRange(_ path: FieldPath) -> Range<Int>? {
        if let found = indexedTopMember(path) { return found.index.map { members[$0].value } }
        return searchedValueRange(path)
    }

    /// `valueRange` where the key index cannot tell.
    private func searchedValueRange(_ path: FieldPath) -> Range<Int>? {
        bytes.withUnsafeBytes { raw in
            // A top-level key the index could not answer for: no location to build.
            if path.dots.isEmpty {
                return Self.lastMember(members, named: path.text, 0..<path.text.count, raw).map { members[$0].value }
            }
            switch lookupNested(path) {
            case .found(let field): return field.value
            case .missing: return nil
            case .notApplicable: break
            }
            var nested: [Level] = []
            guard let index = Self.locate(path, from: 0, in: members, raw, below: &nested, index: keyIndex) else { return nil }
            guard let last = nested.last else { return members[index].value }
            return last.members[last.index].value
        }
    }

    /// The indices of the members before the located one, in its object, with the same key.
    func earlierDuplicates(at location: Location) -> [Int] {
        bytes.withUnsafeBytes { Self.earlierDuplicates(at: location, in: members, $0) }
    }

    /// Whether `earlierDuplicates` has any, without building the list (the answer for nearly every lookup is no).
    private static func hasEarlierDuplicate(at location: Location, in members: MemberList, _ raw: UnsafeRawBufferPointer) -> Bool {
        let (siblings, leaf) = location.nested.last.map { ($0.members, $0.index) } ?? (members, location.top)
        let found = siblings[leaf]
        for index in 0..<leaf {
            let member = siblings[index]
            if found.keyIsEscaped || member.keyIsEscaped { return !earlierDuplicates(at: location, in: members, raw).isEmpty }
            if member.key.count == found.key.count, keyEquals(member, UnsafeRawBufferPointer(rebasing: raw[found.key]), raw) { return true }
        }
        return false
    }

    private static func earlierDuplicates(at location: Location, in members: MemberList, _ raw: UnsafeRawBufferPointer) -> [Int] {
        let (siblings, leaf) = location.nested.last.map { ($0.members, $0.index) } ?? (members, location.top)
        let key = UnsafeRawBufferPointer(rebasing: raw[siblings[leaf].key])
        var decoded: [UInt8] = []
        var isDecoded = false
        return siblings[..<leaf].indices.filter { index in
            // Escaped spellings are compared decoded; the rest byte for byte.
            guard siblings[leaf].keyIsEscaped || siblings[index].keyIsEscaped else { return keyEquals(siblings[index], key, raw) }
            if !isDecoded {
                JSONUnescape.append(key, to: &decoded)
                isDecoded = true
            }
            return decoded.withUnsafeBytes { keyEquals(siblings[index], $0, raw) }
        }
    }

    /// Replaces the value at `path`, and of every duplicate of its key beside it, with what `transform`
    /// makes of it (nil: unchanged).
    mutating func replaceAll(_ path: FieldPath, spare: inout FilterRecord, _ transform: (UnsafeRawBufferPointer) -> [UInt8]?) {
        materialize(spare: &spare)
        guard let first = locate(path, forEditing: true) else { return }
        let leaves = (first.duplicated ? earlierDuplicates(at: first) : []) + [first.leaf]
        for leaf in leaves.reversed() {
            // A replacement keeps every member where it was: the same indices find the same fields.
            guard var location = leaf == first.leaf ? first : locate(path, forEditing: true) else { return }
            location.leaf = leaf
            let range = value(at: location)
            guard let new = bytes.withUnsafeBytes({ transform(UnsafeRawBufferPointer(rebasing: $0[range])) }) else { continue }
            spare.edit(&self, .replace(new), at: location)
        }
    }

    /// Removes the field at `path` and every duplicate of its key beside it; false when there is none.
    @discardableResult
    mutating func removeAll(_ path: FieldPath, spare: inout FilterRecord) -> Bool {
        materialize(spare: &spare)
        guard var location = locate(path, forEditing: true) else { return false }
        // The path's other reading (a dotted key, or the nested field beside it) stays: a lookup would
        // not have found it.
        let depth = location.nested.count
        while true {
            spare.edit(&self, .remove, at: location)
            guard location.duplicated, let next = locate(path, forEditing: true), next.nested.count == depth else { return true }
            location = next
        }
    }

    /// The member at `path[start...]` among `members`: the remaining text as one key first, then split
    /// at each dot from the left into a key whose value is an object and the rest within it (whose
    /// levels are appended to `below`). `index`: the record's key index, for the top-level members.
    private static func locate(
        _ path: FieldPath, from start: Int, in members: MemberList, _ raw: UnsafeRawBufferPointer, below: inout [Level], index: KeyIndex
    ) -> Int? {
        if let found = lastMember(path, from: start, upTo: path.text.count, in: members, raw, index: index) { return found }
        for dot in path.dots where dot > start {
            guard let index = lastMember(path, from: start, upTo: dot, in: members, raw, index: index),
                raw[members[index].value.lowerBound] == UInt8(ascii: "{")
            else { continue }
            let inner = scanMembers(raw, members[index].value)
            let depth = below.count
            below.append(Level(members: inner, index: 0))
            if let innerIndex = locate(path, from: dot + 1, in: inner, raw, below: &below, index: KeyIndex()) {
                below[depth].index = innerIndex
                return index
            }
            below.removeSubrange(depth...)
        }
        return nil
    }

    /// `lastMember` of `path.text[start..<end]`, from `index` when it is valid and has that key.
    @inline(__always)
    static func lastMember(
        _ path: FieldPath, from start: Int, upTo end: Int, in members: MemberList, _ raw: UnsafeRawBufferPointer, index: KeyIndex
    ) -> Int? {
        if index.isValid && start == 0 {
            let key = path.key(upTo: end)
            if key >= 0 { return index.last(key) }
        }
        return lastMember(members, named: path.text, start..<end, raw)
    }

    /// Of duplicate keys the last counts, as in most JSON parsers.
    static func lastMember(_ members: MemberList, named text: [UInt8], _ range: Range<Int>, _ raw: UnsafeRawBufferPointer) -> Int? {
        text.withUnsafeBytes { name in
            let wanted = UnsafeRawBufferPointer(rebasing: name[range])
            let first = wanted.first
            var index = members.count - 1
            while index >= 0 {
                let member = members[index]
                // Length and first byte rule out nearly every key before a comparison.
                if member.keyIsEscaped || (member.key.count == wanted.count && (wanted.isEmpty || raw[member.key.lowerBound] == first)) {
                    if keyEquals(member, wanted, raw) { return index }
                }
                index -= 1
            }
            return nil
        }
    }

    @inline(__always)
    static func keyEquals(_ member: Member, _ name: UnsafeRawBufferPointer, _ raw: UnsafeRawBufferPointer) -> Bool {
        if !member.keyIsEscaped {
            guard member.key.count == name.count else { return false }
            return name.isEmpty || ShortCompare.equal(raw.baseAddress! + member.key.lowerBound, name.baseAddress!, name.count)
        }
        var key: [UInt8] = []
        JSONUnescape.append(UnsafeRawBufferPointer(rebasing: raw[member.key]), to: &key)
        return key.elementsEqual(name)
    }

    /// The members of the object at `range` of `raw`, with ranges into `raw`.
    static func scanMembers(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> MemberList {
        var members: [Member] = []
        // Growing from empty would reallocate three times for a typical nested object.
        members.reserveCapacity(8)
        let base = range.lowerBound
        forEachMember(of: UnsafeRawBufferPointer(rebasing: raw[range])) { member in
            members.append(
                Member(
                    key: (member.key.lowerBound + base)..<(member.key.upperBound + base), keyIsEscaped: member.keyIsEscaped,
                    value: (member.value.lowerBound + base)..<(member.value.upperBound + base), valueIsString: member.valueIsString))
        }
        return MemberList(members)
    }

    /// The members of `object`, which a scan found valid, with ranges into it: walked by
    /// `RecordMembers` when it is small (a nested object, or our own `{"message":…}`), where the SIMD
    /// walk's set-up costs more than the walk.
    @inline(__always)
    static func forEachMember(of object: UnsafeRawBufferPointer, _ body: (Member) -> Void) {
        if object.count <= 128 {
            _ = RecordMembers.forEach(object, body)
        } else {
            _ = JSONScanner.scanTrustedObject(object, member: body)
        }
    }

    // MARK: building records

    /// Appends a member whose key is `key` as it sits between its quotes in JSON.
    mutating func appendMember(escapedKey key: UnsafeRawBufferPointer, keyIsEscaped: Bool, value: UnsafeRawBufferPointer) {
        mayHoldWatchedKey = true
        forgetScan()
        let hasMembers = !members.isEmpty
        let member = Self.appendMember(escapedKey: key, keyIsEscaped: keyIsEscaped, value: value, comma: hasMembers, to: &bytes.storage)
        members.append(member)
    }

    /// `"key":value` appended to `bytes`, after a comma if `comma`; the member's ranges in them.
    private static func appendMember(
        escapedKey key: UnsafeRawBufferPointer, keyIsEscaped: Bool, value: UnsafeRawBufferPointer, comma: Bool, to bytes: inout [UInt8]
    ) -> Member {
        if comma { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        let keyStart = bytes.count
        bytes.appendBytes(key)
        let keyEnd = bytes.count
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        let valueStart = bytes.count
        bytes.appendBytes(value)
        return Member(
            key: keyStart..<keyEnd, keyIsEscaped: keyIsEscaped, value: valueStart..<bytes.count,
            valueIsString: value.first == UInt8(ascii: "\""))
    }

    /// Appends a member with a key given as text (escaped here).
    mutating func appendMember(key text: [UInt8], value: UnsafeRawBufferPointer) {
        var quoted: [UInt8] = []
        JSONEscaper.appendQuoted(text[...], to: &quoted)
        quoted.withUnsafeBytes { raw in
            let escaped = UnsafeRawBufferPointer(rebasing: raw[1..<(raw.count - 1)])
            appendMember(escapedKey: escaped, keyIsEscaped: escaped.count != text.count, value: value)
        }
    }

    /// What becomes of one member when an object is written again; members without one are kept.
    package enum MemberChange {
        case drop
        /// The value becomes these bytes of the values written beside the changes (`replacements` for
        /// the pending ones).
        case replace(Range<Int>)
        /// The member's value with this range of the record (within the value) taken out: a nested
        /// removal, written from the record's own bytes without a copy of the value made first.
        case cut(Range<Int>)
    }

    package struct MemberEdit {
        package var index: Int
        package var change: MemberChange
    }

    package typealias Changes = ReusedList<MemberEdit>

    /// Rewrites `record` into `self` with `change` made at `location` (nil: the record itself, for
    /// `.append`), then swaps the two: `record` is the new version, `self` the old one's storage.
    mutating func edit(_ record: inout FilterRecord, _ change: Change, at location: Location?) {
        // The location was found in what is written: pending changes would make it stale.
        assert(record.pending.isEmpty, "pending changes are written before an edit")
        var changes: Changes = []
        var values: [UInt8] = []
        if let location {
            record.bytes.withUnsafeBytes { raw in
                if location.nested.isEmpty {
                    let made = Self.apply(change, to: UnsafeRawBufferPointer(rebasing: raw[record.members[location.top].value]), into: &values)
                    changes = [MemberEdit(index: location.top, change: made)]
                } else {
                    Self.writeObject(raw, location.nested[...], change, into: &values)
                    changes = [MemberEdit(index: location.top, change: .replace(0..<values.count))]
                }
            }
        }
        values.withUnsafeBytes { rewrite(record, changes, values: $0) }
        if location == nil, case .append(let key, let value) = change {
            // Reopen the object just written to add the member.
            bytes.storage.removeLast()
            value.withUnsafeBytes { appendMember(key: key, value: $0) }
            bytes.storage.append(UInt8(ascii: "}"))
        }
        swap(&self, &record)
    }

    /// Writes `record` into `self` with `changes` (in the order of their indices, their new values in
    /// `values`) made to its members; the caller swaps, if it keeps the result.
    mutating func rewrite(_ record: FilterRecord, _ changes: Changes, values: UnsafeRawBufferPointer) {
        isOwn = record.isOwn
        // A change drops a member or gives it a new value, never a new key.
        mayHoldWatchedKey = record.mayHoldWatchedKey
        forgetScan()
        clearPending()
        bytes.removeAll()
        members.removeAll()
        let source = record.members
        record.bytes.withUnsafeBytes { raw in
            Self.writeObject(raw, source, changes, values: values, into: &bytes.storage, recording: &members, record: true)
        }
    }

    /// The members changed: what the scan noted of them (the key index, the nested members) no longer holds.
    mutating func forgetScan() {
        keyIndex.isValid = false
        nested = nil
    }

    /// No pending changes, and none of their values.
    mutating func clearPending() {
        pending.removeAll()
        if !replacements.isEmpty { replacements.removeAll(keepingCapacity: true) }
    }

    /// What takes the nested member at `location` out of its top-level member's value, one separator
    /// with it, everything else as it was: a removal needs no object written again. Nil for a top-level
    /// member, which is dropped.
    func cutOut(_ location: Location) -> Range<Int>? {
        guard let level = location.nested.last else { return nil }
        let siblings = level.members
        let index = level.index
        return Self.removalCut(
            previousValueEnd: index > 0 ? siblings[index - 1].value.upperBound : nil, keyQuote: siblings[index].key.lowerBound - 1,
            valueEnd: siblings[index].value.upperBound, nextKeyQuote: index + 1 < siblings.count ? siblings[index + 1].key.lowerBound - 1 : nil)
    }

    /// The bytes a member takes with it when it is removed from its object: itself and the separator
    /// before it, or, the first, the one after it; alone, just itself.
    static func removalCut(previousValueEnd: Int?, keyQuote: Int, valueEnd: Int, nextKeyQuote: Int?) -> Range<Int> {
        if let previousValueEnd { return previousValueEnd..<valueEnd }
        if let nextKeyQuote { return keyQuote..<nextKeyQuote }
        return keyQuote..<valueEnd
    }

    /// The value `change` makes of `value`, its bytes appended to `values`.
    static func apply(_ change: Change, to value: UnsafeRawBufferPointer, into values: inout [UInt8]) -> MemberChange {
        let start = values.count
        switch change {
        case .remove: return .drop
        case .replace(let new):
            values += new
            return .replace(start..<values.count)
        case .append(let key, let new):
            // An object: everything before its closing brace, a comma unless it is empty, the member.
            var close = value.count - 1
            while close > 0 && value[close] != UInt8(ascii: "}") { close -= 1 }
            var last = close - 1
            while last > 0 && (value[last] == 0x20 || value[last] == 0x09 || value[last] == 0x0A || value[last] == 0x0D) { last -= 1 }
            values.appendBytes(UnsafeRawBufferPointer(rebasing: value[..<close]))
            if value[last] != UInt8(ascii: "{") { values.append(UInt8(ascii: ",")) }
            JSONEscaper.appendQuoted(key[...], to: &values)
            values.append(UInt8(ascii: ":"))
            values += new
            values.append(UInt8(ascii: "}"))
            return .replace(start..<values.count)
        }
    }

    /// The object of `levels.first` written again with `change` made below it.
    static func writeObject(
        _ raw: UnsafeRawBufferPointer, _ levels: ArraySlice<Level>, _ change: Change, into out: inout [UInt8]
    ) {
        guard let level = levels.first, let first = level.members.first, let last = level.members.last else { return }
        // The object's own size and a little: no reallocation while it is written.
        out.reserveCapacity(out.count + last.value.upperBound - first.key.lowerBound + 64)
        var values: [UInt8] = []
        let made: MemberChange
        if levels.count == 1 {
            made = apply(change, to: UnsafeRawBufferPointer(rebasing: raw[level.members[level.index].value]), into: &values)
        } else {
            writeObject(raw, levels.dropFirst(), change, into: &values)
            made = .replace(0..<values.count)
        }
        var unused = MemberList()
        values.withUnsafeBytes {
            writeObject(raw, level.members, [MemberEdit(index: level.index, change: made)], values: $0, into: &out, recording: &unused, record: false)
        }
    }

    /// Writes the object of `members` (ranges into `raw`) to `out` with `changes` (in the order of their
    /// indices, replacements from `values`) made. The kept members between two changes are copied in
    /// one piece, separators and whitespace as they were; with `record`, the members' ranges in `out`
    /// are appended to `recording`.
    /// The pieces are copied into room made for them with one append (an array append costs some
    /// seventy instructions before it copies, and a record has five to ten pieces), as much room as
    /// they can take: the object's bytes and the new values. Each changed member is written with no
    /// more than it had around its value, and each comma stands for one the object had. `closing`, when
    /// given, is written in place of the closing brace.
    static func writeObject(
        _ raw: UnsafeRawBufferPointer, _ members: MemberList, _ changes: Changes, values: UnsafeRawBufferPointer,
        closing: UnsafeRawBufferPointer? = nil, into out: inout [UInt8], recording: inout MemberList, record: Bool
    ) {
        let start = out.count
        // Buffers, not the arrays, go into the append's closure: it retained each array it captured.
        members.withUnsafeBufferPointer { members in
            changes.withUnsafeBufferPointer { changes in
                out.append(addingCapacity: raw.count &+ values.count &+ 2 &+ (closing?.count ?? 0)) { span in
                    span.withUnsafeMutableBufferPointer { room, initialized in
                        guard let base = room.baseAddress else { return }
                        var writer = PieceWriter(base: base + initialized)
                        writePieces(raw, members, changes, values, to: &writer, at: start, recording: &recording, record: record)
                        if let closing {
                            // In place of the closing brace.
                            writer.count &-= 1
                            writer.put(closing)
                        }
                        initialized &+= writer.count
                    }
                }
            }
        }
    }

    /// Where `writePieces` puts the bytes: memory with room for all of them.
    struct PieceWriter {
        let base: UnsafeMutablePointer<UInt8>
        var count = 0

        init(base: UnsafeMutablePointer<UInt8>) { self.base = base }

        @inline(__always)
        mutating func put(_ bytes: UnsafeRawBufferPointer) {
            if let source = bytes.baseAddress, bytes.count > 0 { memcpy(base + count, source, bytes.count) }
            count &+= bytes.count
        }

        @inline(__always)
        mutating func put(_ byte: UInt8) {
            base[count] = byte
            count &+= 1
        }
    }

    /// `writeObject`'s walk; `offset` is where the writer's first byte lands in the output, for the
    /// recorded ranges.
    @inline(__always)
    private static func writePieces(
        _ raw: UnsafeRawBufferPointer, _ members: UnsafeBufferPointer<Member>, _ changes: UnsafeBufferPointer<MemberEdit>,
        _ values: UnsafeRawBufferPointer,
        to out: inout PieceWriter, at offset: Int,
        recording: inout MemberList, record: Bool
    ) {
        out.put(UInt8(ascii: "{"))
        var first = true
        var index = 0
        var next = 0
        while index < members.count {
            let changed = next < changes.count ? changes[next].index : members.count
            if index < changed {
                // A run of kept members, from the first key's opening quote to the last value's end.
                let last = changed &- 1
                if !first { out.put(UInt8(ascii: ",")) }
                first = false
                let start = members[index].key.lowerBound &- 1
                // Wrapping: computed only for `record` (a checked sum would be computed for every run).
                let shift = offset &+ out.count &- start
                out.put(UnsafeRawBufferPointer(rebasing: raw[start..<members[last].value.upperBound]))
                if record {
                    for member in members[index...last] {
                        recording.append(
                            Member(
                                key: (member.key.lowerBound + shift)..<(member.key.upperBound + shift), keyIsEscaped: member.keyIsEscaped,
                                value: (member.value.lowerBound + shift)..<(member.value.upperBound + shift), valueIsString: member.valueIsString))
                    }
                }
                index = changed
                continue
            }
            // A dropped member is left out; any other is written with its key as it was.
            let change = changes[next].change
            if case .drop = change {
                index &+= 1
                next &+= 1
                continue
            }
            if !first { out.put(UInt8(ascii: ",")) }
            first = false
            let member = members[index]
            out.put(UInt8(ascii: "\""))
            let keyStart = offset &+ out.count
            out.put(UnsafeRawBufferPointer(rebasing: raw[member.key]))
            let keyEnd = offset &+ out.count
            out.put(UInt8(ascii: "\""))
            out.put(UInt8(ascii: ":"))
            let valueStart = offset &+ out.count
            var isString = member.valueIsString
            switch change {
            case .drop: break
            case .replace(let range):
                out.put(UnsafeRawBufferPointer(rebasing: values[range]))
                isString = !range.isEmpty && values[range.lowerBound] == UInt8(ascii: "\"")
            case .cut(let cut):
                out.put(UnsafeRawBufferPointer(rebasing: raw[member.value.lowerBound..<cut.lowerBound]))
                out.put(UnsafeRawBufferPointer(rebasing: raw[cut.upperBound..<member.value.upperBound]))
            }
            if record {
                recording.append(
                    Member(
                        key: keyStart..<keyEnd, keyIsEscaped: member.keyIsEscaped, value: valueStart..<(offset &+ out.count), valueIsString: isString)
                )
            }
            index &+= 1
            next &+= 1
        }
        out.put(UInt8(ascii: "}"))
    }
}
