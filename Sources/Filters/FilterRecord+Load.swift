import Records

extension FilterRecord {
    /// The line's object with its members, copied (and repaired where it held bytes that are not
    /// UTF-8); false when the line is not an object. The scanner reports the members into `slots`,
    /// the caller's storage kept from line to line, through a pointer: an append to `members` for
    /// each, with its uniqueness and capacity checks, cost more than the store. When they do not fit,
    /// `slots` grows to the count and the line is read again, which happens only for a line with more
    /// members than any before it. `watching`: keys `mayHoldWatchedKey` tells about.
    package mutating func load(object line: UnsafeRawBufferPointer, slots: inout [Member], watching: KeyFilter) -> Bool {
        var found = 0
        var watched = false
        var object: JSONScanner.Object?
        while true {
            found = 0
            watched = false
            object = slots.withUnsafeMutableBufferPointer { slots in
                let room = slots.count
                return JSONScanner.scanObject(line) { member in
                    if found < room { slots[found] = member }
                    found += 1
                    if member.keyIsEscaped || watching.mayMatch(member.key.count, line[member.key.lowerBound]) { watched = true }
                }
            }
            guard object != nil, found > slots.count else { break }
            slots.append(
                contentsOf: repeatElement(
                    Member(key: 0..<0, keyIsEscaped: false, value: 0..<0, valueIsString: false), count: max(found, 2 * slots.count) - slots.count))
        }
        guard let object else { return false }
        isOwn = false
        clearPending()
        let body = UnsafeRawBufferPointer(rebasing: line[object.range])
        if object.needsRepair {
            mayHoldWatchedKey = true
            bytes.removeAll(keepingCapacity: true)
            JSONRepair.append(body, to: &bytes)
            members = bytes.withUnsafeBytes { Self.scanMembers($0, 0..<$0.count) }
            return true
        }
        // One call each to empty and fill: no second pass over the array's bookkeeping.
        bytes.replaceSubrange(bytes.indices, with: body)
        slots.withUnsafeBufferPointer { members.replaceSubrange(members.indices, with: UnsafeBufferPointer(rebasing: $0[..<found])) }
        mayHoldWatchedKey = watched
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
        mayHoldWatchedKey = true
        clearPending()
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: "{\"message\":".utf8)
        JSONEscaper.appendQuoted(text, to: &bytes)
        bytes.append(contentsOf: flags.utf8)
        bytes.append(UInt8(ascii: "}"))
        members = bytes.withUnsafeBytes { Self.scanMembers($0, 0..<$0.count) }
    }
}
