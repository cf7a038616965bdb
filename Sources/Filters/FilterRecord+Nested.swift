import Glibc
import Records

/// The common nested field, one object down (`user.name`, `request.method`), found by one pass over the
/// object with no member list built: reading it and removing it are what most filter lists do with
/// nested fields, and building a list for a second lookup cost more than the scan.
extension FilterRecord {
    struct NestedField {
        /// The top-level member whose object holds the field.
        var top: Int
        var value: Range<Int>
        /// The bytes that go when the field is removed: the member and one separator.
        var cut: Range<Int>
        /// An earlier member of the object has the same key.
        var duplicated: Bool
    }

    enum NestedLookup {
        /// The path is not of this shape (no dot, a top-level key with the dots, more than one level
        /// down): the general lookup answers.
        case notApplicable
        case missing
        case found(NestedField)
    }

    /// `path` as a top-level object key and a key within it, the latter without dots.
    func lookupNested(_ path: FieldPath) -> NestedLookup {
        guard let firstDot = path.dots.first else { return .notApplicable }
        return bytes.withUnsafeBytes { raw in
            let text = path.text
            // A top-level key with the dots comes first; the general lookup handles it.
            if lastTopMember(path, upTo: text.count, raw) != nil { return .notApplicable }
            for dot in path.dots {
                guard let top = lastTopMember(path, upTo: dot, raw),
                    raw[members[top].value.lowerBound] == UInt8(ascii: "{")
                else { continue }
                // A deeper path, or a split after another dot: the general lookup tries every reading.
                guard dot == firstDot, path.dots.count == 1 else { return .notApplicable }
                let found = text.withUnsafeBytes { name in
                    let name = UnsafeRawBufferPointer(rebasing: name[(dot + 1)...])
                    if let nested { return Self.member(named: name, in: members[top].value, noted: nested.pointee, raw) }
                    return Self.member(named: name, in: members[top].value, raw)
                }
                guard var field = found else { return .missing }
                field.top = top
                return .found(field)
            }
            return .missing
        }
    }

    /// The last member called `name` of the object at `range`, with what removing it takes. The walk
    /// works in the object's own offsets; only the answer is moved to the record's.
    private static func member(named name: UnsafeRawBufferPointer, in range: Range<Int>, _ raw: UnsafeRawBufferPointer) -> NestedField? {
        let object = UnsafeRawBufferPointer(rebasing: raw[range])
        var match = NestedMatch()
        forEachMember(of: object) { match.see($0, named: name, object) }
        return match.field(at: range.lowerBound)
    }

    /// The same from the members the scan noted, in the record's offsets (`notedMatch`).
    private static func member(
        named name: UnsafeRawBufferPointer, in range: Range<Int>, noted nested: NestedMembers, _ raw: UnsafeRawBufferPointer
    ) -> NestedField? {
        let match = notedMatch(named: name, in: range, noted: nested, raw)
        guard match.found >= 0 else { return nil }
        return NestedField(top: 0, value: nested.members[match.found].value, cut: match.cut, duplicated: match.matches > 1)
    }

    /// The last of the members the scan noted for the object at `range` that is called `name` (its
    /// index, -1 for none), how many are, and what removing the last takes. Those of one object lie
    /// together, in order, so the match's neighbours are read by index once it is found
    /// (`NestedMatch`'s state, kept up for every member, cost more than the comparisons). The chain's
    /// lookup and the screen's (`FilterScreen`) each read what they need of it; out of line, and so its
    /// few words come back in registers (inlined, it pushed the screen's planning out of line).
    @inline(never)
    static func notedMatch(
        named name: UnsafeRawBufferPointer, in range: Range<Int>, noted nested: NestedMembers, _ raw: UnsafeRawBufferPointer
    ) -> (found: Int, matches: Int, cut: Range<Int>) {
        let members = nested.members
        var first = 0
        while first < nested.count && members[first].key.lowerBound < range.lowerBound { first &+= 1 }
        var end = first
        var found = -1
        var matches = 0
        while end < nested.count && members[end].value.upperBound <= range.upperBound {
            let member = members[end]
            if (member.keyIsEscaped || member.key.count == name.count) && keyEquals(member, name, raw) {
                found = end
                matches &+= 1
            }
            end &+= 1
        }
        guard found >= 0 else { return (-1, 0, 0..<0) }
        let member = members[found]
        let cut = removalCut(
            previousValueEnd: found > first ? members[found &- 1].value.upperBound : nil, keyQuote: member.key.lowerBound &- 1,
            valueEnd: member.value.upperBound, nextKeyQuote: found &+ 1 < end ? members[found &+ 1].key.lowerBound &- 1 : nil)
        return (found, matches, cut)
    }

    /// The last of an object's members called `name`, seen one by one as a walk of the object finds
    /// them: its value, the separators its removal takes, whether another had the name.
    private struct NestedMatch {
        var previousEnd = -1
        var value = 0..<0
        var foundPreviousEnd = -1
        var foundKeyQuote = 0
        var nextKeyQuote = -1
        var matches = 0

        @inline(__always)
        mutating func see(_ member: Member, named name: UnsafeRawBufferPointer, _ raw: UnsafeRawBufferPointer) {
            let keyQuote = member.key.lowerBound &- 1
            if matches > 0 && nextKeyQuote < 0 { nextKeyQuote = keyQuote }
            if (member.keyIsEscaped || member.key.count == name.count) && keyEquals(member, name, raw) {
                matches &+= 1
                value = member.value
                foundPreviousEnd = previousEnd
                foundKeyQuote = keyQuote
                nextKeyQuote = -1
            }
            previousEnd = member.value.upperBound
        }

        /// The field found, its offsets moved by `base`.
        func field(at base: Int) -> NestedField? {
            guard matches > 0 else { return nil }
            let cut = removalCut(
                previousValueEnd: foundPreviousEnd >= 0 ? base + foundPreviousEnd : nil, keyQuote: base + foundKeyQuote,
                valueEnd: base + value.upperBound, nextKeyQuote: nextKeyQuote >= 0 ? base + nextKeyQuote : nil)
            return NestedField(top: 0, value: (base + value.lowerBound)..<(base + value.upperBound), cut: cut, duplicated: matches > 1)
        }
    }
}
