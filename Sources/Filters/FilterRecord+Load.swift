import Records

extension FilterRecord {
    /// The line's object with its members (repaired, into bytes of its own, where it held bytes that
    /// are not UTF-8); false when the line is not an object. The scanner reports the members into `slots`,
    /// the caller's storage kept from line to line (`scanIntoSlots`). `keys`: the enricher's keys
    /// `mayHoldWatchedKey` tells about; the filters' keys, whose members go into `keyIndex`. The record
    /// reads the line in place (`RecordBytes`: the line must outlive the filters' run and the record's
    /// write), or a copy of it with `copying`.
    /// `nested`: where the scanner puts the members of the objects one level down.
    package mutating func load(
        object line: UnsafeRawBufferPointer, slots: inout [Member], keys: FilterKeys, nested: NestedMemberStore, copying: Bool
    ) -> Bool {
        var watched = false
        var escaped = false
        var index = KeyIndex()
        let lookup = keys.lookup
        let (object, found) = slots.scanIntoSlots { slots in
            var found = 0
            watched = false
            escaped = false
            index = KeyIndex()
            let object = JSONScanner.scanObject(line, nested: nested.members) { member in
                if found < slots.count { slots[found] = member }
                if member.keyIsEscaped {
                    watched = true
                    escaped = true
                } else {
                    // An empty key's byte here is its closing quote, as `FilterKeys` expects.
                    let entry = lookup.slots[Int(KeyFilter.slot(member.keyCount, line[member.key.lowerBound]))]
                    if entry != 0 {
                        if entry & FilterKeys.watched != 0 { watched = true }
                        let number = lookup.number(of: UnsafeRawBufferPointer(rebasing: line[member.key]), entry: entry)
                        if number >= 0 { index.note(number, at: found) }
                    }
                }
                found &+= 1
            }
            return (object, found)
        }
        guard let object else { return false }
        isOwn = false
        clearPending()
        let body = UnsafeRawBufferPointer(rebasing: line[object.range])
        index.isValid = !escaped && !object.needsRepair && found < 0xFF_FFFF
        keyIndex = index
        // Its offsets are the line's: they hold for the record when the object starts the line.
        self.nested = nested.members.pointee.isComplete && object.range.lowerBound == 0 && !object.needsRepair ? UnsafePointer(nested.members) : nil
        nested.grow()
        if object.needsRepair {
            mayHoldWatchedKey = true
            bytes.removeAll()
            JSONRepair.append(body, to: &bytes.storage)
            findMembers()
            return true
        }
        if copying {
            bytes.removeAll()
            bytes.storage.appendBytes(body)
        } else {
            bytes.borrow(body, plain: object.isPlain)
        }
        // The slots become the members, and the members' storage the next line's slots.
        members.take(&slots, count: found)
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
        forgetScan()
        clearPending()
        bytes.removeAll()
        bytes.storage.append(contentsOf: "{\"message\":".utf8)
        JSONEscaper.appendQuoted(text, to: &bytes.storage)
        bytes.storage.append(contentsOf: flags.utf8)
        bytes.storage.append(UInt8(ascii: "}"))
        findMembers()
    }

    /// The members of `bytes`, found anew into the list's own storage: a new array here would leave the
    /// next line's slots too few, and the scan would run twice.
    private mutating func findMembers() {
        members.removeAll()
        bytes.withUnsafeBytes { raw in Self.forEachMember(of: raw) { members.append($0) } }
    }
}
