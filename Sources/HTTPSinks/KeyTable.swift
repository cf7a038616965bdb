import Glibc

/// A few keys in one byte array, to find which of them a record's key is: walking an array of arrays
/// retains and releases each element it looks at, this walks two arrays of integers and bytes.
struct KeyTable {
    private let text: [UInt8]
    /// Where each key ends in `text`; the next one starts there.
    private let ends: [Int]

    init(_ keys: [[UInt8]]) {
        text = keys.flatMap { $0 }
        var end = 0
        ends = keys.map { key in
            end += key.count
            return end
        }
    }

    /// Calls `body` with the index of every key equal to `key`, in order.
    func forEachMatch(_ key: UnsafeRawBufferPointer, _ body: (Int) -> Void) {
        text.withUnsafeBytes { all in
            var start = 0
            for (index, end) in ends.enumerated() {
                defer { start = end }
                guard end - start == key.count else { continue }
                if key.isEmpty || memcmp(all.baseAddress! + start, key.baseAddress!, key.count) == 0 { body(index) }
            }
        }
    }
}
