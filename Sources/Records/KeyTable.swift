import Glibc

/// A few keys (or strings) in one byte array, to find which of them a record's key (or value) is:
/// walking an array of arrays retains and releases each element it looks at, this walks one array of
/// bytes and one of integers. The HTTP formats find their keys with it, the filters' `equals` their
/// strings. Public and inlinable for them (see `ByteOutput`).
public struct KeyTable {
    @usableFromInline let text: [UInt8]
    /// Where each key ends in `text`; the next one starts there.
    @usableFromInline let ends: [Int]
    /// The keys by their length and first byte (`KeyFilter.slot`): for each of the 256 slots the first
    /// key's index plus one (0: none), and for each key the next one's in the same slot. A lookup
    /// compares the few keys of its slot, not the whole table (OTLP's role keys are nine).
    @usableFromInline let firstInSlot: [Int]
    @usableFromInline let nextInSlot: [Int]

    package init(_ keys: [[UInt8]]) {
        text = keys.flatMap { $0 }
        var end = 0
        ends = keys.map { key in
            end += key.count
            return end
        }
        var first = [Int](repeating: 0, count: 256)
        var next = [Int](repeating: 0, count: keys.count)
        var last = [Int](repeating: -1, count: 256)
        // In index order: a slot's chain keeps the keys' order.
        for (index, key) in keys.enumerated() {
            let slot = Int(Self.slot(key.count, key.first))
            if last[slot] < 0 { first[slot] = index + 1 } else { next[last[slot]] = index + 1 }
            last[slot] = index
        }
        firstInSlot = first
        nextInSlot = next
    }

    /// A key's slot; an empty key's is that of its length alone.
    @inlinable @inline(__always)
    static func slot(_ count: Int, _ first: UInt8?) -> UInt8 { KeyFilter.slot(count, first ?? 0) }

    /// Calls `body` with the index of every key equal to `key`, in order. A table of a few keys is
    /// walked whole: finding the slot cost more than the lengths compared (Loki's four time keys).
    @inlinable
    public func forEachMatch(_ key: UnsafeRawBufferPointer, _ body: (Int) -> Void) {
        text.withUnsafeBytes { all in
            func match(_ entry: Int, from start: Int) {
                if ends[entry] - start == key.count, key.isEmpty || ShortCompare.equal(all.baseAddress! + start, key.baseAddress!, key.count) {
                    body(entry)
                }
            }
            if ends.count <= 4 {
                var start = 0
                for entry in ends.indices {
                    match(entry, from: start)
                    start = ends[entry]
                }
                return
            }
            var entry = firstInSlot[Int(Self.slot(key.count, key.first))] - 1
            while entry >= 0 {
                match(entry, from: entry == 0 ? 0 : ends[entry - 1])
                entry = nextInSlot[entry] - 1
            }
        }
    }

    /// Whether some key is equal to `key` (the tables are a few keys long: no early exit is worth a
    /// second loop).
    @inlinable
    public func contains(_ key: UnsafeRawBufferPointer) -> Bool {
        var found = false
        forEachMatch(key) { _ in found = true }
        return found
    }
}
