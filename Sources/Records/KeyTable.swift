import Glibc

/// A few keys (or strings) in one byte array, to find which of them a record's key (or value) is:
/// walking an array of arrays retains and releases each element it looks at, this walks one array of
/// bytes and one of integers. The HTTP formats find their keys with it, the filters' `equals` their
/// strings. Public and inlinable for them (see `ByteOutput`).
public struct KeyTable {
    @usableFromInline let text: [UInt8]
    /// Where each key ends in `text`; the next one starts there.
    @usableFromInline let ends: [Int]

    package init(_ keys: [[UInt8]]) {
        text = keys.flatMap { $0 }
        var end = 0
        ends = keys.map { key in
            end += key.count
            return end
        }
    }

    /// Calls `body` with the index of every key equal to `key`, in order.
    @inlinable
    public func forEachMatch(_ key: UnsafeRawBufferPointer, _ body: (Int) -> Void) {
        text.withUnsafeBytes { all in
            var start = 0
            for (index, end) in ends.enumerated() {
                defer { start = end }
                guard end - start == key.count else { continue }
                if key.isEmpty || memcmp(all.baseAddress! + start, key.baseAddress!, key.count) == 0 { body(index) }
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
