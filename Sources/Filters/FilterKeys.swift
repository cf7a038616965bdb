import Records

/// The top-level keys the chain's filters name: each field's whole path and its text before each dot
/// (`user.name` names `user.name` and `user`), the first `capacity` of them. `FilterRecord.load` notes
/// where each is as the scanner reports the members (`KeyIndex`), so a filter finds its field, and
/// whether the key is duplicated, without a search of the members. `load` also notes whether a key may
/// be one of the enricher's (`FilterRecord.mayHoldWatchedKey`).
/// Both are told by one byte per member: `slots` holds, for each slot (`KeyFilter.slot` of a key's
/// length and first byte), the number of the filters' key in it plus one and whether an enricher's
/// key may be in it. A member whose slot is empty (nearly all) costs a load and a test.
package final class FilterKeys {
    static let capacity = 8
    /// A slot's low nibble when two of the filters' keys share it: each key is compared.
    static let shared: UInt8 = 0x0F
    /// A slot's bit for an enricher's key.
    static let watched: UInt8 = 0x80

    /// What a load reads: plain pointers into `memory`, which lives as long as the keys (and
    /// `load` holds them), so a load takes no retain.
    struct Lookup {
        /// 256 bytes; changed only by `watch`, which the enricher calls once, when it is made.
        let slots: UnsafeMutablePointer<UInt8>
        /// For key `k`: its start in `text` at `2k`, its length at `2k + 1`.
        let spans: UnsafeMutablePointer<Int>
        let text: UnsafeMutablePointer<UInt8>
        let count: Int

        /// The number of the filters' key that is `key`, whose slot held `entry` (not 0); -1 for none.
        @inline(__always)
        func number(of key: UnsafeRawBufferPointer, entry: UInt8) -> Int {
            let low = Int(entry & 0x0F)
            guard low == Int(FilterKeys.shared) else { return low != 0 && matches(low &- 1, key) ? low &- 1 : -1 }
            for number in 0..<count where matches(number, key) { return number }
            return -1
        }

        @inline(__always)
        func matches(_ number: Int, _ key: UnsafeRawBufferPointer) -> Bool {
            let length = spans[2 &* number &+ 1]
            guard length == key.count else { return false }
            guard let bytes = key.baseAddress else { return true }
            return ShortCompare.equal(text + spans[2 &* number], bytes, length)
        }
    }

    let lookup: Lookup
    private let memory: UnsafeMutableRawPointer

    /// Numbers the keys of `paths` (setting their `wholeKey` and `prefixKeys`): the same text, the
    /// same number.
    init(numbering paths: [FieldPath]) {
        var keys: [[UInt8]] = []
        func number(_ key: ArraySlice<UInt8>) -> Int {
            if let index = keys.firstIndex(where: { $0[...] == key }) { return index }
            guard keys.count < Self.capacity else { return -1 }
            keys.append(Array(key))
            return keys.count - 1
        }
        for path in paths {
            path.wholeKey = number(path.text[...])
            path.prefixKeys = path.dots.map { number(path.text[..<$0]) }
        }
        let textBytes = keys.reduce(0) { $0 + $1.count }
        memory = .allocate(byteCount: 2 * Self.capacity * MemoryLayout<Int>.stride + 256 + max(textBytes, 1), alignment: 8)
        let spans = memory.bindMemory(to: Int.self, capacity: 2 * Self.capacity)
        let slots = (memory + 2 * Self.capacity * MemoryLayout<Int>.stride).bindMemory(to: UInt8.self, capacity: 256 + max(textBytes, 1))
        slots.initialize(repeating: 0, count: 256 + max(textBytes, 1))
        let text = slots + 256
        var start = 0
        for (index, key) in keys.enumerated() {
            for (offset, byte) in key.enumerated() { text[start + offset] = byte }
            spans[2 * index] = start
            spans[2 * index + 1] = key.count
            start += key.count
            let slot = Self.slot(key[...])
            slots[slot] = slots[slot] & 0x0F == 0 ? UInt8(index + 1) : slots[slot] | Self.shared
        }
        lookup = Lookup(slots: slots, spans: spans, text: text, count: keys.count)
    }

    deinit { memory.deallocate() }

    /// Marks the slots of the enricher's keys.
    package func watch(_ keys: [[UInt8]]) {
        for key in keys { lookup.slots[Self.slot(key[...])] |= Self.watched }
    }

    /// A key's slot as `load` finds it: an empty key's first byte is its closing quote.
    private static func slot(_ key: ArraySlice<UInt8>) -> Int { Int(KeyFilter.slot(key.count, key.first ?? UInt8(ascii: "\""))) }
}

extension FilterRecord {
    /// Where the chain's keys (`FilterKeys`) are among the top-level members. Valid from `load` until
    /// the members change (a rewrite, an added member), and only when no key was escaped (an escaped
    /// key may spell one of them differently); lookups search the members when it is not.
    package struct KeyIndex {
        /// For key `k`, word `k`: the index of the last member with it, plus one (0: none), in the low
        /// 24 bits (a line of 16 MiB has fewer members); how many members have it, up to 2, above. Small:
        /// a record is copied whole where a method reads it, and a record of more than 128 bytes was
        /// copied by a call to memcpy. A vector's lanes, read and written by index: a tuple's element
        /// by index took a jump table at every read.
        var words = SIMD8<UInt32>()
        var isValid = false

        @inline(__always)
        func word(_ key: Int) -> UInt32 { words[key & 7] }

        /// `FilterRecord.indexedTopMember`, from the index alone: a caller holding the record `inout`
        /// reads the index field, where a method of the record copied all of it.
        @inline(__always)
        func topMember(_ path: FieldPath) -> (index: Int?, duplicated: Bool)? {
            guard isValid, path.wholeKey >= 0, path.dots.isEmpty else { return nil }
            return (last(path.wholeKey), count(path.wholeKey) > 1)
        }

        @inline(__always)
        func last(_ key: Int) -> Int? {
            let last = Int(word(key) & 0xFF_FFFF)
            return last == 0 ? nil : last - 1
        }

        /// 0, 1, or 2 for more.
        @inline(__always)
        func count(_ key: Int) -> Int { Int(word(key) &>> 24) }

        /// Notes member `index`, whose key is `key` (`load` leaves the index off for a line of more
        /// members than the 24 bits hold).
        @inline(__always)
        mutating func note(_ key: Int, at index: Int) {
            let count = min(words[key & 7] &>> 24 &+ 1, 2)
            words[key & 7] = count &<< 24 | UInt32(truncatingIfNeeded: index &+ 1)
        }
    }

    /// The last top-level member whose key is `path.text[..<end]` (`end` the text's end or one of its
    /// dots): from the key index when it has that key, else by a search of the members.
    @inline(__always)
    func lastTopMember(_ path: FieldPath, upTo end: Int, _ raw: UnsafeRawBufferPointer) -> Int? {
        Self.lastMember(path, from: 0, upTo: end, in: members, raw, index: keyIndex)
    }

    /// A top-level field (a path without dots) from the key index alone: the index of its member (nil:
    /// there is none) and whether its key is duplicated; nil when the index cannot tell.
    @inline(__always)
    func indexedTopMember(_ path: FieldPath) -> (index: Int?, duplicated: Bool)? { keyIndex.topMember(path) }

    /// Whether more than one top-level member has the key `path` names whole; nil when the index
    /// cannot tell.
    func topKeyIsDuplicated(_ path: FieldPath) -> Bool? {
        guard keyIndex.isValid, path.wholeKey >= 0 else { return nil }
        return keyIndex.count(path.wholeKey) > 1
    }
}
