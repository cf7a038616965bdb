import Glibc

/// A record between the filters: a JSON object's bytes and its top-level members, kept in step, so a
/// filter finds fields without scanning what the scanner already reported, and an edit writes the next
/// version with its members without scanning it again. Records the filters leave alone are not copied.
struct FilterRecord {
    typealias Member = JSONScanner.Member

    var bytes: [UInt8] = []
    /// Ranges into `bytes`, in order.
    var members: [Member] = []
    /// Our own record around a line that was not an object (`{"message":…}`), not the application's.
    var isOwn = false

    /// Where a field was found: the index of its top-level member, and for a nested field each object
    /// on the way down with its members (ranges into `bytes`) and the index within it.
    struct Location {
        var top: Int
        var nested: [(members: [Member], index: Int)] = []
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

    func locate(_ path: FieldPath) -> Location? {
        bytes.withUnsafeBytes { raw in
            guard let (index, nested) = Self.locate(path, from: 0, in: members, raw) else { return nil }
            return Location(top: index, nested: nested)
        }
    }

    /// The member at `path[start...]` among `members`: the remaining text as one key first, then split
    /// at each dot from the left into a key whose value is an object and the rest within it.
    private static func locate(
        _ path: FieldPath, from start: Int, in members: [Member], _ raw: UnsafeRawBufferPointer
    ) -> (Int, [(members: [Member], index: Int)])? {
        let end = path.text.count
        if let index = lastMember(members, named: path.text, start..<end, raw) { return (index, []) }
        for dot in path.dots where dot > start {
            guard let index = lastMember(members, named: path.text, start..<dot, raw), raw[members[index].value.lowerBound] == UInt8(ascii: "{")
            else { continue }
            let inner = scanMembers(raw, members[index].value)
            if let (innerIndex, deeper) = locate(path, from: dot + 1, in: inner, raw) {
                return (index, [(inner, innerIndex)] + deeper)
            }
        }
        return nil
    }

    /// Of duplicate keys the last counts, as in most JSON parsers.
    static func lastMember(_ members: [Member], named text: [UInt8], _ range: Range<Int>, _ raw: UnsafeRawBufferPointer) -> Int? {
        text.withUnsafeBytes { name in
            let wanted = UnsafeRawBufferPointer(rebasing: name[range])
            var index = members.count - 1
            while index >= 0 {
                if keyEquals(members[index], wanted, raw) { return index }
                index -= 1
            }
            return nil
        }
    }

    @inline(__always)
    static func keyEquals(_ member: Member, _ name: UnsafeRawBufferPointer, _ raw: UnsafeRawBufferPointer) -> Bool {
        if !member.keyIsEscaped {
            guard member.key.count == name.count else { return false }
            return name.isEmpty || memcmp(raw.baseAddress! + member.key.lowerBound, name.baseAddress!, name.count) == 0
        }
        var key: [UInt8] = []
        JSONUnescape.append(UnsafeRawBufferPointer(rebasing: raw[member.key]), to: &key)
        return key.elementsEqual(name)
    }

    /// The members of the object at `range` of `raw`, with ranges into `raw`.
    static func scanMembers(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> [Member] {
        var members: [Member] = []
        let base = range.lowerBound
        _ = JSONScanner.scanObject(UnsafeRawBufferPointer(rebasing: raw[range])) { member in
            members.append(Member(
                key: (member.key.lowerBound + base)..<(member.key.upperBound + base), keyIsEscaped: member.keyIsEscaped,
                value: (member.value.lowerBound + base)..<(member.value.upperBound + base), valueIsString: member.valueIsString))
        }
        return members
    }

    // MARK: building records

    /// Starts `self` over as an empty object of the same kind as `record`.
    mutating func begin(like record: FilterRecord) {
        bytes.removeAll(keepingCapacity: true)
        members.removeAll(keepingCapacity: true)
        isOwn = record.isOwn
        bytes.append(UInt8(ascii: "{"))
    }

    mutating func end() { bytes.append(UInt8(ascii: "}")) }

    /// Appends a member whose key is `key` as it sits between its quotes in JSON.
    mutating func appendMember(escapedKey key: UnsafeRawBufferPointer, keyIsEscaped: Bool, value: UnsafeRawBufferPointer) {
        if !members.isEmpty { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        let keyStart = bytes.count
        bytes.append(contentsOf: key)
        let keyEnd = bytes.count
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        let valueStart = bytes.count
        bytes.append(contentsOf: value)
        members.append(Member(
            key: keyStart..<keyEnd, keyIsEscaped: keyIsEscaped, value: valueStart..<bytes.count,
            valueIsString: value.first == UInt8(ascii: "\"")))
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

    /// Rewrites `record` into `self` with `change` made at `location` (nil: the record itself, for
    /// `.append`), then swaps the two: `record` is the new version, `self` the old one's storage.
    mutating func edit(_ record: inout FilterRecord, _ change: Change, at location: Location?) {
        begin(like: record)
        record.bytes.withUnsafeBytes { raw in
            for (index, member) in record.members.enumerated() {
                let key = UnsafeRawBufferPointer(rebasing: raw[member.key])
                guard let location, index == location.top else {
                    appendMember(escapedKey: key, keyIsEscaped: member.keyIsEscaped, value: UnsafeRawBufferPointer(rebasing: raw[member.value]))
                    continue
                }
                var value: [UInt8] = []
                if location.nested.isEmpty {
                    if !Self.apply(change, to: UnsafeRawBufferPointer(rebasing: raw[member.value]), into: &value) { continue }
                } else {
                    Self.writeObject(raw, location.nested[...], change, into: &value)
                }
                value.withUnsafeBytes { appendMember(escapedKey: key, keyIsEscaped: member.keyIsEscaped, value: $0) }
            }
        }
        if location == nil, case .append(let key, let value) = change {
            value.withUnsafeBytes { appendMember(key: key, value: $0) }
        }
        end()
        swap(&self, &record)
    }

    /// The value `change` makes of `value`; false when the member goes.
    private static func apply(_ change: Change, to value: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
        switch change {
        case .remove: return false
        case .replace(let new): out.append(contentsOf: new)
        case .append(let key, let new):
            // An object: everything before its closing brace, a comma unless it is empty, the member.
            var close = value.count - 1
            while close > 0 && value[close] != UInt8(ascii: "}") { close -= 1 }
            var last = close - 1
            while last > 0 && (value[last] == 0x20 || value[last] == 0x09 || value[last] == 0x0A || value[last] == 0x0D) { last -= 1 }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: value[..<close]))
            if value[last] != UInt8(ascii: "{") { out.append(UInt8(ascii: ",")) }
            JSONEscaper.appendQuoted(key[...], to: &out)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: new)
            out.append(UInt8(ascii: "}"))
        }
        return true
    }

    /// The object of `levels.first`, written compactly with `change` made below it.
    private static func writeObject(
        _ raw: UnsafeRawBufferPointer, _ levels: ArraySlice<(members: [Member], index: Int)>, _ change: Change, into out: inout [UInt8]
    ) {
        guard let level = levels.first else { return }
        out.append(UInt8(ascii: "{"))
        var first = true
        for (index, member) in level.members.enumerated() {
            var value: [UInt8] = []
            let original = UnsafeRawBufferPointer(rebasing: raw[member.value])
            if index != level.index {
                value.append(contentsOf: original)
            } else if levels.count == 1 {
                if !apply(change, to: original, into: &value) { continue }
            } else {
                writeObject(raw, levels.dropFirst(), change, into: &value)
            }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[member.key]))
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
            out.append(contentsOf: value)
        }
        out.append(UInt8(ascii: "}"))
    }
}
