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
    /// nil: logfmt.
    private let regex: PCRERegex?
    /// The regex's named groups: their numbers, and `"name":` written once.
    private let groups: [Int]
    /// `"name":` of every group, one after the other, and where each ends.
    private let memberKeys: [UInt8]
    private let memberKeyEnds: [Int]
    private let names: [[UInt8]]
    /// Where a record's object is written before it is appended whole: one append per record rather
    /// than several per field.
    private var scratch: [UInt8] = []
    private var ranges: [Range<Int>?] = []
    private var pairs: [Logfmt.Pair] = []
    private var decoded: [UInt8] = []
    private var lastOfKey: [[UInt8]: Int] = [:]
    private var logfmtKeys: [[UInt8]] = []

    /// The keys of the last object written, as they are in it (escaped): a JSON input's own members
    /// with these names give way to them, and enrichment fields of these names are left out.
    package func forEachKey(_ body: ([UInt8]) -> Void) {
        guard regex != nil else { return logfmtKeys.forEach(body) }
        for index in ranges.indices where ranges[index] != nil { body(names[index]) }
    }

    package let rule: ParseRule

    /// Throws when a pattern does not compile, or has no named group (it would make every record empty).
    package init(_ rule: ParseRule) throws(PCRERegex.CompileError) {
        self.rule = rule
        switch rule {
        case .logfmt:
            (regex, groups, memberKeys, memberKeyEnds, names) = (nil, [], [], [], [])
        case .regex(let pattern):
            let regex = try PCRERegex(pattern)
            let named = regex.namedGroups
            guard !named.isEmpty else {
                throw PCRERegex.CompileError(message: "no named group; name what to keep, as (?<message>.*)", offset: -1)
            }
            self.regex = regex
            groups = named.map(\.number)
            var quoted: [[UInt8]] = []
            for group in named {
                var key: [UInt8] = []
                JSONEscaper.appendQuoted(group.name[...], to: &key)
                quoted.append(key + [UInt8(ascii: ":")])
            }
            memberKeys = quoted.flatMap { $0 }
            var ends: [Int] = []
            for key in quoted { ends.append((ends.last ?? 0) + key.count) }
            memberKeyEnds = ends
            names = quoted.map { Array($0.dropFirst().dropLast(2)) }
        }
    }

    /// Appends `{"key":"value",…}` for `text` to `out`; false, with nothing appended, when `text` does
    /// not match the pattern or is not logfmt.
    package func appendObject(_ text: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Bool {
        if let regex { return appendCaptures(text, regex, to: &out) }
        logfmtKeys.removeAll(keepingCapacity: true)
        guard Logfmt.parse(text, into: &pairs) else { return false }
        out.append(UInt8(ascii: "{"))
        if pairs.count > 1 { noteLastOfEachKey(text) }
        for index in pairs.indices {
            let pair = pairs[index]
            let key = UnsafeRawBufferPointer(rebasing: text[pair.key])
            // A key given twice: the last value wins, as in a map built from the line.
            if pairs.count > 1, lastOfKey[Array(key)] != index { continue }
            if out.last != UInt8(ascii: "{") { out.append(UInt8(ascii: ",")) }
            let start = out.count
            JSONEscaper.appendQuoted(key, to: &out)
            logfmtKeys.append(Array(out[(start + 1)..<(out.count - 1)]))
            out.append(UInt8(ascii: ":"))
            switch pair.value {
            case .flag: out.append(contentsOf: "true".utf8)
            case .bare(let range): JSONEscaper.appendQuoted(UnsafeRawBufferPointer(rebasing: text[range]), to: &out)
            case .quoted(let range):
                decoded.removeAll(keepingCapacity: true)
                Logfmt.appendUnquoted(UnsafeRawBufferPointer(rebasing: text[range]), to: &decoded)
                JSONEscaper.appendQuoted(decoded[...], to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
        return true
    }

    private func appendCaptures(_ text: UnsafeRawBufferPointer, _ regex: PCRERegex, to out: inout [UInt8]) -> Bool {
        guard regex.captures(text, groups: groups, into: &ranges) else { return false }
        let room = 2 + memberKeys.count + ranges.count + JSONEscaper.maximumQuoted(text.count) * max(1, ranges.count)
        if scratch.count < room { scratch = [UInt8](repeating: 0, count: room) }
        let written = scratch.withUnsafeMutableBufferPointer { target in
            memberKeys.withUnsafeBufferPointer { keys in
                guard let start = target.baseAddress, let keyBytes = keys.baseAddress else { return 0 }
                var at = 0
                start[at] = UInt8(ascii: "{")
                at += 1
                var keyStart = 0
                for index in ranges.indices {
                    let keyEnd = memberKeyEnds[index]
                    defer { keyStart = keyEnd }
                    guard let range = ranges[index] else { continue }
                    if at > 1 {
                        start[at] = UInt8(ascii: ",")
                        at += 1
                    }
                    (start + at).update(from: keyBytes + keyStart, count: keyEnd - keyStart)
                    at += keyEnd - keyStart
                    at += JSONEscaper.writeQuoted(UnsafeRawBufferPointer(rebasing: text[range]), to: start + at)
                }
                start[at] = UInt8(ascii: "}")
                return at + 1
            }
        }
        out.append(contentsOf: scratch[..<written])
        return true
    }

    private func noteLastOfEachKey(_ text: UnsafeRawBufferPointer) {
        lastOfKey.removeAll(keepingCapacity: true)
        for (index, pair) in pairs.enumerated() { lastOfKey[Array(UnsafeRawBufferPointer(rebasing: text[pair.key]))] = index }
    }
}
