import Records

/// `parse`: a record's text turned into fields before the filters and the enrichment, as a JSON object
/// the rest of the enricher then takes like an application's line.
extension Enricher {
    enum Parsed {
        /// `object` holds the record to take as a line of JSON; `own`: it is our record (parsed text),
        /// merged with the fields in either mode rather than wrapped.
        case object(own: Bool)
        /// Text that did not parse: shipped as `{"message": …}` with `parse_error`.
        case textFailed
        /// Not ours to parse (a JSON line that is not an object): the path without a parser.
        case unchanged
    }

    /// Text: the parser's object. JSON: the object with its `message` string replaced by the fields
    /// parsed from it (its own members of those names give way); an object whose message does not parse
    /// gets `"parse_error":true`.
    func parse(_ bytes: UnsafeRawBufferPointer, with parser: LineParser, into object: inout [UInt8]) -> (Parsed, failed: Bool) {
        object.removeAll(keepingCapacity: true)
        if readsText {
            return parser.appendObject(bytes, to: &object) ? (.object(own: true), false) : (.textFailed, true)
        }
        var message: JSONScanner.Member?
        var members: [JSONScanner.Member] = []
        let scanned = JSONScanner.scanObject(bytes) { member in
            members.append(member)
            if message == nil, member.valueIsString, !member.keyIsEscaped,
                UnsafeRawBufferPointer(rebasing: bytes[member.key]).elementsEqual(Self.messageKeyBytes)
            {
                message = member
            }
        }
        guard let scanned else { return (.unchanged, false) }
        guard let message else { return (.unchanged, false) }
        var text: [UInt8] = []
        let content = (message.value.lowerBound + 1)..<(message.value.upperBound - 1)
        JSONUnescape.append(UnsafeRawBufferPointer(rebasing: bytes[content]), to: &text)
        var fields: [UInt8] = []
        guard text.withUnsafeBytes({ parser.appendObject($0, to: &fields) }) else {
            // The object as it is, flagged.
            let body = UnsafeRawBufferPointer(rebasing: bytes[scanned.range])
            object.appendBytes(UnsafeRawBufferPointer(rebasing: body.dropLast()))
            object.append(contentsOf: (scanned.memberCount > 0 ? ",\"parse_error\":true}" : "\"parse_error\":true}").utf8)
            return (.object(own: false), true)
        }
        object.append(UInt8(ascii: "{"))
        var parsedKeys: [[UInt8]] = []
        parser.forEachKey { parsedKeys.append($0) }
        for member in members where member.key != message.key {
            let key = UnsafeRawBufferPointer(rebasing: bytes[member.key])
            if parsedKeys.contains(where: { key.elementsEqual($0) }) { continue }
            if object.count > 1 { object.append(UInt8(ascii: ",")) }
            object.appendBytes(UnsafeRawBufferPointer(rebasing: bytes[(member.key.lowerBound - 1)..<member.value.upperBound]))
        }
        if fields.count > 2 {
            if object.count > 1 { object.append(UInt8(ascii: ",")) }
            object.append(contentsOf: fields[1..<(fields.count - 1)])
        }
        object.append(UInt8(ascii: "}"))
        return (.object(own: false), false)
    }

    static let messageKeyBytes = Array("message".utf8)
}
