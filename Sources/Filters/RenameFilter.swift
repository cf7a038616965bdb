import Configuration
import Records

/// `rename`: moves one field (the last of duplicates; the others are removed). A present target is
/// overwritten in place (duplicates of it are removed and the field added at the end); missing objects on the target's path are
/// created; where the path meets a value that is not an object, the rest of the path becomes one dotted
/// key beside it (nothing is overwritten that the target does not name, and a lookup of the same path
/// finds it, since a key with dots is tried first).
final class RenameFilter: RecordFilter {
    private let from: FieldPath
    private let to: FieldPath

    init(from: String, to: String) {
        self.from = FieldPath(from)
        self.to = FieldPath(to)
    }

    override var fieldPaths: [FieldPath] { [from, to] }

    override func apply(_ record: inout FilterRecord, spare: inout FilterRecord, nowMs: Int64) -> Bool {
        record.materialize(spare: &spare)
        guard let source = record.locate(from, forEditing: true) else { return true }
        let value = record.bytes.withUnsafeBytes { Array($0[record.value(at: source)]) }
        // Duplicates of either key go: none may outlive the rename with a stale value.
        if source.duplicated { record.removeAll(from, spare: &spare) } else { spare.edit(&record, .remove, at: source) }
        var target = record.locate(to, forEditing: true)
        if let duplicated = target?.duplicated, duplicated {
            record.removeAll(to, spare: &spare)
            target = nil
        }
        if let target {
            spare.edit(&record, .replace(value), at: target)
        } else {
            let (parent, key, wrapped) = insertion(value, into: record)
            spare.edit(&record, .append(key: key, value: wrapped), at: parent)
        }
        return true
    }

    /// The deepest object on the target's path that exists, and the member to add to it.
    private func insertion(_ value: [UInt8], into record: FilterRecord) -> (FilterRecord.Location?, [UInt8], [UInt8]) {
        let text = to.text
        var location: FilterRecord.Location?
        var members = record.members
        var start = 0
        descend: while true {
            for dot in to.dots where dot > start {
                guard let index = record.bytes.withUnsafeBytes({ FilterRecord.lastMember(members, named: text, start..<dot, $0) }) else { continue }
                let range = members[index].value
                guard record.bytes[range.lowerBound] == UInt8(ascii: "{") else {
                    return (location, Array(text[start...]), value)
                }
                if var deeper = location {
                    deeper.nested.append(FilterRecord.Level(members: members, index: index))
                    location = deeper
                } else {
                    location = FilterRecord.Location(top: index)
                }
                members = record.bytes.withUnsafeBytes { FilterRecord.scanMembers($0, range) }
                start = dot + 1
                continue descend
            }
            break
        }
        // What is left does not exist: an object for each component but the last.
        let components = text[start...].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        var wrapped = value
        for component in components.dropFirst().reversed() {
            var object: [UInt8] = [UInt8(ascii: "{")]
            JSONEscaper.appendQuoted(component, to: &object)
            object.append(UInt8(ascii: ":"))
            object += wrapped
            object.append(UInt8(ascii: "}"))
            wrapped = object
        }
        return (location, Array(components.first ?? []), wrapped)
    }
}

extension RenameFilterConfig: FilterMaking {
    func makeFilter() throws(PCRERegex.CompileError) -> RecordFilter { RenameFilter(from: from, to: to) }
}
