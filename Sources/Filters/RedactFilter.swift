import Configuration
import Records

/// `redact`: replaces every match of `pattern` in string values with `replacement` (literal text),
/// descending into objects and arrays; without a pattern, a named field's whole value (and, with no
/// fields named, every string) becomes `replacement`. Keys are never changed.
final class RedactFilter: RecordFilter {
    private let paths: [FieldPath]?
    private let regex: PCRERegex?
    private let replacement: [UInt8]
    /// `replacement` as a JSON string.
    private let replacementValue: [UInt8]
    private var text: [UInt8] = []

    init(fields: [String]?, pattern: String?, replacement: String) throws(PCRERegex.CompileError) {
        paths = fields?.map(FieldPath.init)
        regex = try pattern.map { pattern throws(PCRERegex.CompileError) in try PCRERegex(pattern) }
        self.replacement = Array(replacement.utf8)
        var quoted: [UInt8] = []
        JSONEscaper.appendQuoted(self.replacement[...], to: &quoted)
        replacementValue = quoted
    }

    func apply(_ record: inout FilterRecord, spare: inout FilterRecord, nowMs: Int64) -> Bool {
        guard let paths else {
            redactEverything(&record, spare: &spare)
            return true
        }
        for path in paths {
            // Missing: pending changes only take away, so it is missing once they are written too.
            guard let location = record.locate(path, forEditing: true) else { continue }
            // A top-level key found once, in a member nothing changed yet: a pending change.
            if location.nested.isEmpty, !location.duplicated, !record.hasPending(at: location.top) {
                let range = record.members[location.top].value
                if let new = record.bytes.withUnsafeBytes({ fieldValue(UnsafeRawBufferPointer(rebasing: $0[range])) }) {
                    record.addPending(FilterRecord.MemberEdit(index: location.top, change: .replace(new)))
                }
                continue
            }
            // Every duplicate of the key too: a consumer that takes the first must not see the secret.
            record.replaceAll(path, spare: &spare, fieldValue)
        }
        return true
    }

    /// What a named field's value becomes; nil when it stays.
    private func fieldValue(_ value: UnsafeRawBufferPointer) -> [UInt8]? {
        regex == nil ? replacementValue : redacted(value)
    }

    private func redactEverything(_ record: inout FilterRecord, spare: inout FilterRecord) {
        record.materialize(spare: &spare)
        let values = record.bytes.withUnsafeBytes { raw in
            record.members.map { redacted(UnsafeRawBufferPointer(rebasing: raw[$0.value])) }
        }
        record.pending = values.indices.compactMap { index in values[index].map { FilterRecord.MemberEdit(index: index, change: .replace($0)) } }
    }

    /// `value` (JSON) with its strings redacted; nil when nothing in it changed.
    private func redacted(_ value: UnsafeRawBufferPointer) -> [UInt8]? {
        switch value[0] {
        case UInt8(ascii: "\""):
            guard let regex else { return replacementValue }
            text.removeAll(keepingCapacity: true)
            let replaced = StringValue.withText(value) { regex.replaceAll($0, with: replacement, appendingTo: &text) }
            guard replaced else { return nil }
            var out: [UInt8] = []
            // Room for the quotes and a few escapes: no reallocation while escaping.
            out.reserveCapacity(text.count + 16)
            text.withUnsafeBytes { JSONEscaper.appendQuoted($0, to: &out) }
            return out
        case UInt8(ascii: "{"):
            var members: [JSONScanner.Member] = []
            _ = JSONScanner.scanObject(value) { members.append($0) }
            return rebuild(value, open: UInt8(ascii: "{"), close: UInt8(ascii: "}"), parts: members.map { ($0.key, $0.value) })
        case UInt8(ascii: "["):
            var elements: [Range<Int>] = []
            _ = JSONScanner.scanArray(value) { elements.append($0) }
            return rebuild(value, open: UInt8(ascii: "["), close: UInt8(ascii: "]"), parts: elements.map { (nil, $0) })
        default:
            return nil
        }
    }

    /// A container written again with its values redacted; nil when none changed.
    private func rebuild(_ container: UnsafeRawBufferPointer, open: UInt8, close: UInt8, parts: [(key: Range<Int>?, value: Range<Int>)]) -> [UInt8]? {
        var out: [UInt8] = [open]
        var changed = false
        for (index, part) in parts.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            if let key = part.key {
                out.append(UInt8(ascii: "\""))
                out.appendBytes(UnsafeRawBufferPointer(rebasing: container[key]))
                out.append(UInt8(ascii: "\""))
                out.append(UInt8(ascii: ":"))
            }
            let value = UnsafeRawBufferPointer(rebasing: container[part.value])
            if let new = redacted(value) {
                changed = true
                out += new
            } else {
                out.appendBytes(value)
            }
        }
        out.append(close)
        return changed ? out : nil
    }
}

extension RedactFilterConfig: FilterMaking {
    func makeFilter() throws(PCRERegex.CompileError) -> any RecordFilter {
        try RedactFilter(fields: fields, pattern: pattern, replacement: replacement)
    }
}
