/// `parse` on an input entry or an exec stream: how a line of text (or a multiline record) becomes a
/// record's fields.
package enum ParseRule: Sendable, Hashable {
    /// A PCRE2 pattern; each named group that took part is a string field.
    case regex(String)
    case logfmt
}

/// Parses text into a JSON object of string fields (`true` for a logfmt flag). One instance per source
/// setting, used by the reading loop's thread only (the regex has its own match data).
package final class LineParser {
    private enum Kind {
        case regex(PCRERegex, names: [[UInt8]], groups: [Int])
        case logfmt
    }

    private let kind: Kind
    private var ranges: [Range<Int>?] = []
    private var pairs: [Logfmt.Pair] = []
    private var decoded: [UInt8] = []
    private var lastOfKey: [[UInt8]: Int] = [:]
    /// The keys of the last object written, as they are in it (escaped): a JSON input's own members
    /// with these names give way to them.
    package private(set) var keys: [[UInt8]] = []

    package let rule: ParseRule

    /// Throws when a pattern does not compile, or has no named group (it would make every record empty).
    package init(_ rule: ParseRule) throws(PCRERegex.CompileError) {
        self.rule = rule
        switch rule {
        case .logfmt: kind = .logfmt
        case .regex(let pattern):
            let regex = try PCRERegex(pattern)
            let groups = regex.namedGroups
            guard !groups.isEmpty else {
                throw PCRERegex.CompileError(message: "no named group; name what to keep, as (?<message>.*)", offset: -1)
            }
            kind = .regex(regex, names: groups.map(\.name), groups: groups.map(\.number))
        }
    }

    /// Appends `{"key":"value",…}` for `text` to `out`; false, with nothing appended, when `text` does
    /// not match the pattern or is not logfmt.
    package func appendObject(_ text: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Bool {
        keys.removeAll(keepingCapacity: true)
        switch kind {
        case .regex(let regex, let names, let groups):
            guard regex.captures(text, groups: groups, into: &ranges) else { return false }
            out.append(UInt8(ascii: "{"))
            for (name, range) in zip(names, ranges) {
                guard let range else { continue }
                appendKey(name, to: &out)
                JSONEscaper.appendQuoted(UnsafeRawBufferPointer(rebasing: text[range]), to: &out)
            }
        case .logfmt:
            guard Logfmt.parse(text, into: &pairs) else { return false }
            out.append(UInt8(ascii: "{"))
            if pairs.count > 1 { noteLastOfEachKey(text) }
            for (index, pair) in pairs.enumerated() {
                let key = UnsafeRawBufferPointer(rebasing: text[pair.key])
                // A key given twice: the last value wins, as in a map built from the line.
                if pairs.count > 1, lastOfKey[Array(key)] != index { continue }
                decoded.removeAll(keepingCapacity: true)
                decoded.appendBytes(key)
                appendKey(decoded, to: &out)
                switch pair.value {
                case .flag: out.append(contentsOf: "true".utf8)
                case .bare(let range): JSONEscaper.appendQuoted(UnsafeRawBufferPointer(rebasing: text[range]), to: &out)
                case .quoted(let range):
                    decoded.removeAll(keepingCapacity: true)
                    Logfmt.appendUnquoted(UnsafeRawBufferPointer(rebasing: text[range]), to: &decoded)
                    JSONEscaper.appendQuoted(decoded[...], to: &out)
                }
            }
        }
        out.append(UInt8(ascii: "}"))
        return true
    }

    private func noteLastOfEachKey(_ text: UnsafeRawBufferPointer) {
        lastOfKey.removeAll(keepingCapacity: true)
        for (index, pair) in pairs.enumerated() { lastOfKey[Array(UnsafeRawBufferPointer(rebasing: text[pair.key]))] = index }
    }

    private func appendKey(_ name: [UInt8], to out: inout [UInt8]) {
        if out.last != UInt8(ascii: "{") { out.append(UInt8(ascii: ",")) }
        let start = out.count
        JSONEscaper.appendQuoted(name[...], to: &out)
        keys.append(Array(out[(start + 1)..<(out.count - 1)]))
        out.append(UInt8(ascii: ":"))
    }
}
