import Records

extension FilterRecord {
    /// The line's object with its members, copied (and repaired where it held bytes that are not
    /// UTF-8); false when the line is not an object.
    package mutating func load(object line: UnsafeRawBufferPointer) -> Bool {
        var found: [Member] = []
        swap(&found, &members)
        found.removeAll(keepingCapacity: true)
        let object = JSONScanner.scanObject(line) { found.append($0) }
        swap(&found, &members)
        guard let object else { return false }
        isOwn = false
        if !pending.isEmpty { pending.removeAll(keepingCapacity: true) }
        bytes.removeAll(keepingCapacity: true)
        let body = UnsafeRawBufferPointer(rebasing: line[object.range])
        if object.needsRepair {
            JSONRepair.append(body, to: &bytes)
            members = bytes.withUnsafeBytes { Self.scanMembers($0, 0..<$0.count) }
            return true
        }
        bytes.append(contentsOf: body)
        let shift = object.range.lowerBound
        if shift != 0 {
            for index in members.indices {
                let member = members[index]
                members[index].key = (member.key.lowerBound - shift)..<(member.key.upperBound - shift)
                members[index].value = (member.value.lowerBound - shift)..<(member.value.upperBound - shift)
            }
        }
        return true
    }

    /// Our own record around a line that is not an object: `{"message":<text>` + `flags` + `}`.
    package mutating func loadOwn(message text: UnsafeRawBufferPointer, flags: String) {
        isOwn = true
        if !pending.isEmpty { pending.removeAll(keepingCapacity: true) }
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: "{\"message\":".utf8)
        JSONEscaper.appendQuoted(text, to: &bytes)
        bytes.append(contentsOf: flags.utf8)
        bytes.append(UInt8(ascii: "}"))
        members = bytes.withUnsafeBytes { Self.scanMembers($0, 0..<$0.count) }
    }
}
