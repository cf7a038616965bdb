/// `redact`: replaces every match of `pattern` in string values with `replacement` (literal text),
/// descending into objects and arrays; without a pattern, a named field's whole value (and, with no
/// fields named, every string) becomes `replacement`. Keys are never changed.
final class RedactFilter: RecordFilter {
    private let paths: [FieldPath]?
    private let regex: Regex?
    private let replacement: [UInt8]
    /// `replacement` as a JSON string.
    private let replacementValue: [UInt8]
    private var text: [UInt8] = []

    init(fields: [String]?, pattern: String?, replacement: String) throws(Regex.CompileError) {
        paths = fields?.map(FieldPath.init)
        regex = try pattern.map { pattern throws(Regex.CompileError) in try Regex(pattern) }
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
            guard let location = record.locate(path) else { continue }
            let range = record.value(at: location)
            let new = record.bytes.withUnsafeBytes { raw in
                regex == nil ? replacementValue : redacted(UnsafeRawBufferPointer(rebasing: raw[range]))
            }
            if let new { spare.edit(&record, .replace(new), at: location) }
        }
        return true
    }

    private func redactEverything(_ record: inout FilterRecord, spare: inout FilterRecord) {
        var changed = false
        spare.begin(like: record)
        record.bytes.withUnsafeBytes { raw in
            for member in record.members {
                let key = UnsafeRawBufferPointer(rebasing: raw[member.key])
                if let new = redacted(UnsafeRawBufferPointer(rebasing: raw[member.value])) {
                    changed = true
                    new.withUnsafeBytes { spare.appendMember(escapedKey: key, keyIsEscaped: member.keyIsEscaped, value: $0) }
                } else {
                    spare.appendMember(escapedKey: key, keyIsEscaped: member.keyIsEscaped, value: UnsafeRawBufferPointer(rebasing: raw[member.value]))
                }
            }
        }
        spare.end()
        if changed { swap(&record, &spare) }
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
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: container[key]))
                out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
            }
            let value = UnsafeRawBufferPointer(rebasing: container[part.value])
            if let new = redacted(value) {
                changed = true
                out += new
            } else {
                out.append(contentsOf: value)
            }
        }
        out.append(close)
        return changed ? out : nil
    }
}
