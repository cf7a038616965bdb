/// A few keys (or strings), to find which of them a record's key (or value) is. The HTTP formats find
/// their keys with it, the filters' `equals` their strings. Public and inlinable for them (see
/// `ByteOutput`).
/// The table is plain memory, read through pointers: read through arrays, a lookup checked the bounds
/// of each of four arrays and cost some 130 instructions (OTLP's roles, three lookups a record).
public struct KeyTable: @unchecked Sendable {
    /// For each of the 256 slots (`KeyFilter.slot` of a key's length and first byte) the first key's
    /// index plus one (0: none); then for each key three entries: the next key's in its slot (plus
    /// one), its start in `text`, its length. A lookup compares the few keys of its slot, not the
    /// whole table (OTLP's role keys are nine).
    @usableFromInline let entries: UnsafePointer<Int32>
    @usableFromInline let text: UnsafePointer<UInt8>
    @usableFromInline let count: Int
    /// Owns the memory; never changed after `init` (hence `@unchecked Sendable`).
    @usableFromInline let storage: Storage

    @usableFromInline final class Storage {
        let memory: UnsafeMutableRawBufferPointer

        init(byteCount: Int) { memory = .allocate(byteCount: byteCount, alignment: 4) }

        deinit { memory.deallocate() }
    }

    @usableFromInline static let slots = 256

    package init(_ keys: [[UInt8]]) {
        let textBytes = keys.reduce(0) { $0 + $1.count }
        let entryCount = Self.slots + 3 * keys.count
        storage = Storage(byteCount: entryCount * 4 + max(textBytes, 1))
        let entries = storage.memory.bindMemory(to: Int32.self).baseAddress.unsafelyUnwrapped
        entries.initialize(repeating: 0, count: entryCount)
        let text = (UnsafeMutableRawPointer(entries) + entryCount * 4).bindMemory(to: UInt8.self, capacity: max(textBytes, 1))
        var start = 0
        var last = [Int](repeating: -1, count: Self.slots)
        // In index order: a slot's chain keeps the keys' order.
        for (index, key) in keys.enumerated() {
            for (offset, byte) in key.enumerated() { text[start + offset] = byte }
            entries[Self.slots + 3 * index + 1] = Int32(start)
            entries[Self.slots + 3 * index + 2] = Int32(key.count)
            start += key.count
            let slot = Int(Self.slot(key.count, key.first))
            if last[slot] < 0 { entries[slot] = Int32(index + 1) } else { entries[Self.slots + 3 * last[slot]] = Int32(index + 1) }
            last[slot] = index
        }
        (self.entries, self.text, count) = (UnsafePointer(entries), UnsafePointer(text), keys.count)
    }

    /// A key's slot; an empty key's is that of its length alone.
    @inlinable @inline(__always)
    static func slot(_ count: Int, _ first: UInt8?) -> UInt8 { KeyFilter.slot(count, first ?? 0) }

    /// Whether entry `index`'s key is `key`.
    @inlinable @inline(__always)
    func matches(_ index: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let base = Self.slots &+ 3 &* index
        guard Int(entries[base &+ 2]) == key.count else { return false }
        guard let bytes = key.baseAddress else { return true }
        return ShortCompare.equal(text + Int(entries[base &+ 1]), bytes, key.count)
    }

    /// Calls `body` with the index of every key equal to `key`, in order. A table of a few keys is
    /// walked whole: finding the slot cost more than the lengths compared (Loki's four time keys).
    /// Always inlined: called out of line with `body`, the caller's context (OTLP's format) was
    /// retained and released around every call.
    @inlinable @inline(__always)
    public func forEachMatch(_ key: UnsafeRawBufferPointer, _ body: (Int) -> Void) {
        if count <= 4 {
            for index in 0..<count where matches(index, key) { body(index) }
            return
        }
        var index = Int(entries[Int(Self.slot(key.count, key.first))]) &- 1
        while index >= 0 {
            if matches(index, key) { body(index) }
            index = Int(entries[Self.slots &+ 3 &* index]) &- 1
        }
    }

    /// Whether some key is equal to `key` (the tables are a few keys long: no early exit is worth a
    /// second loop).
    @inlinable @inline(__always)
    public func contains(_ key: UnsafeRawBufferPointer) -> Bool {
        var found = false
        forEachMatch(key) { _ in found = true }
        return found
    }
}
