import Configuration
import Records

/// `redact`: replaces every match of `pattern` in string values with `replacement` (literal text),
/// descending into objects and arrays; without a pattern, a named field's whole value (and, with no
/// fields named, every string) becomes `replacement`. Keys are never changed.
final class RedactFilter: RecordFilter {
    private let paths: [FieldPath]?
    /// `paths`, each lent to its edit without a retain (`paths` holds them).
    private let unretainedPaths: [Unmanaged<FieldPath>]?
    private let regex: PCRERegex?
    /// `regex`, lent to each replacement without a retain and a release around it (`regex` holds it).
    private let unretainedRegex: Unmanaged<PCRERegex>?
    private let replacement: [UInt8]
    /// `replacement` as a JSON string.
    private let replacementValue: [UInt8]
    /// `replacement` needs no escaping in a JSON string (printable ASCII without `"` and `\`).
    private let replacementIsPlain: Bool
    private var text: [UInt8] = []

    init(fields: [String]?, pattern: String?, replacement: String) throws(PCRERegex.CompileError) {
        paths = fields?.map(FieldPath.init)
        unretainedPaths = paths?.map { Unmanaged.passUnretained($0) }
        regex = try pattern.map { pattern throws(PCRERegex.CompileError) in try PCRERegex(pattern) }
        unretainedRegex = regex.map { Unmanaged.passUnretained($0) }
        self.replacement = Array(replacement.utf8)
        var quoted: [UInt8] = []
        JSONEscaper.appendQuoted(self.replacement[...], to: &quoted)
        replacementValue = quoted
        replacementIsPlain = self.replacement.withUnsafeBytes { JSONEscaper.isPlain($0) }
    }

    override var fieldPaths: [FieldPath] { paths ?? [] }

    /// Every string redacted (no fields named) is the chain's.
    override var screenRole: ScreenRole? { paths.map { .redacts($0) } }

    override func appendScreenedValue(_ value: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Bool {
        appendFieldValue(value, plain: true, to: &out)
    }

    override func apply(_ record: inout FilterRecord, spare: inout FilterRecord, nowMs: Int64) -> Bool {
        guard let unretainedPaths else {
            redactEverything(&record, spare: &spare)
            return true
        }
        // Each path lent without a retain: a path found was retained and released around its edit.
        for path in unretainedPaths { path._withUnsafeGuaranteedRef { redact($0, in: &record, spare: &spare) } }
        return true
    }

    private func redact(_ path: FieldPath, in record: inout FilterRecord, spare: inout FilterRecord) {
        // Missing: pending changes only take away, so it is missing once they are written too.
        // `top`: the top-level member when the key is found once there (nil for a nested field or
        // a duplicated key), from the key index when it can tell.
        let top: Int?
        if let found = record.indexedTopMember(path) {
            guard let index = found.index else { return }
            top = found.duplicated ? nil : index
        } else {
            guard let location = record.locate(path, forEditing: true) else { return }
            top = location.nested.isEmpty && !location.duplicated ? location.top : nil
        }
        // A top-level key found once, in a member nothing changed yet: a pending change.
        if let top, !record.hasPending(at: top) {
            let range = record.members[top].value
            let start = record.replacements.count
            let plain = record.bytes.isPlain
            _ = record.bytes.withUnsafeBytes {
                appendFieldValue(UnsafeRawBufferPointer(rebasing: $0[range]), plain: plain, to: &record.replacements)
            }
            record.addReplacement(at: top, since: start)
            return
        }
        // Every duplicate of the key too: a consumer that takes the first must not see the secret.
        record.replaceAll(path, spare: &spare) { value in
            var new: [UInt8] = []
            return appendFieldValue(value, plain: false, to: &new) ? new : nil
        }
    }

    /// Appends what a named field's value becomes to `out`; false (nothing appended) when it stays.
    /// `plain`: the value is from a plain line (`RecordBytes.isPlain`).
    private func appendFieldValue(_ value: UnsafeRawBufferPointer, plain: Bool, to out: inout [UInt8]) -> Bool {
        guard regex != nil else {
            out += replacementValue
            return true
        }
        return appendRedacted(value, plain: plain, to: &out)
    }

    private func redactEverything(_ record: inout FilterRecord, spare: inout FilterRecord) {
        record.materialize(spare: &spare)
        // Nothing is pending after `materialize`, and the indices rise: each change goes at the end
        // (`addPending` would search the list for its place, a square of the members in all).
        for index in record.members.indices {
            let range = record.members[index].value
            let start = record.replacements.count
            let plain = record.bytes.isPlain
            _ = record.bytes.withUnsafeBytes {
                appendRedacted(UnsafeRawBufferPointer(rebasing: $0[range]), plain: plain, to: &record.replacements)
            }
            if record.replacements.count > start {
                record.pending.append(FilterRecord.MemberEdit(index: index, change: .replace(start..<record.replacements.count)))
            }
        }
    }

    /// Appends `value` (JSON) with its strings redacted to `out`; false (nothing appended) when nothing
    /// in it changed. `plain`: the value is from a plain line.
    private func appendRedacted(_ value: UnsafeRawBufferPointer, plain: Bool, to out: inout [UInt8]) -> Bool {
        switch value[0] {
        case UInt8(ascii: "\""):
            guard let unretainedRegex else {
                out += replacementValue
                return true
            }
            // A plain line's text has no quote, backslash or control byte (DEL, which it may have, is
            // valid in a JSON string as it is), so with a replacement that needs no escaping neither
            // does the result: replaced between its quotes in one append.
            if plain && replacementIsPlain {
                let text = UnsafeRawBufferPointer(rebasing: value[1..<(value.count &- 1)])
                return unretainedRegex._withUnsafeGuaranteedRef {
                    $0.replaceAll(text, with: replacement, isASCII: true, appendingTo: &out, enclosing: UInt8(ascii: "\""))
                }
            }
            // Else replaced straight into `out` after a quote, and closed there when nothing in it
            // needs escaping; else taken out again and escaped.
            let start = out.count
            out.append(UInt8(ascii: "\""))
            let replaced = StringValue.withText(value, plain: plain) { text in
                unretainedRegex._withUnsafeGuaranteedRef {
                    $0.replaceAll(text, with: replacement, isASCII: plain, appendingTo: &out, enclosing: nil)
                }
            }
            guard replaced else {
                out.removeSubrange(start...)
                return false
            }
            if out.withUnsafeBytes({ JSONEscaper.isPlain(UnsafeRawBufferPointer(rebasing: $0[(start + 1)...])) }) {
                out.append(UInt8(ascii: "\""))
                return true
            }
            text.removeAll(keepingCapacity: true)
            text.append(contentsOf: out[(start + 1)...])
            out.removeSubrange(start...)
            text.withUnsafeBytes { JSONEscaper.appendQuoted($0, to: &out) }
            return true
        case UInt8(ascii: "{"):
            var members: [JSONScanner.Member] = []
            _ = JSONScanner.scanObject(value) { members.append($0) }
            return appendRebuilt(
                value, open: UInt8(ascii: "{"), close: UInt8(ascii: "}"), parts: members.map { ($0.key, $0.value) }, plain: plain, to: &out)
        case UInt8(ascii: "["):
            var elements: [Range<Int>] = []
            _ = JSONScanner.scanArray(value) { elements.append($0) }
            return appendRebuilt(value, open: UInt8(ascii: "["), close: UInt8(ascii: "]"), parts: elements.map { (nil, $0) }, plain: plain, to: &out)
        default:
            return false
        }
    }

    /// Appends a container written again with its values redacted to `out`; false (nothing appended)
    /// when none changed.
    private func appendRebuilt(
        _ container: UnsafeRawBufferPointer, open: UInt8, close: UInt8, parts: [(key: Range<Int>?, value: Range<Int>)], plain: Bool,
        to out: inout [UInt8]
    ) -> Bool {
        let start = out.count
        out.append(open)
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
            if appendRedacted(value, plain: plain, to: &out) {
                changed = true
            } else {
                out.appendBytes(value)
            }
        }
        out.append(close)
        if !changed { out.removeSubrange(start...) }
        return changed
    }
}

extension RedactFilterConfig: FilterMaking {
    func makeFilter() throws(PCRERegex.CompileError) -> RecordFilter {
        try RedactFilter(fields: fields, pattern: pattern, replacement: replacement)
    }
}
