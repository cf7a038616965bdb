import Records

/// A filter record's bytes: the line `FilterRecord.load` read, borrowed while the record is that
/// line's object as it came, or bytes of its own once it is written anew (or is our own record, or a
/// repaired line). Borrowing spares a copy of every line (21 million instructions of the filter run).
/// The line is valid only while the enricher has it, for one call of `encodeFiltered`; a record is
/// loaded, or written anew (which drops the borrowed line first), before it is read again.
package struct RecordBytes {
    /// The record's own bytes; not read while a line is borrowed.
    private var owned: [UInt8] = []
    /// The borrowed line, as a pointer and a count: an optional buffer took a byte more, and a record
    /// of more than 128 bytes is copied by a call to memcpy.
    private var lineStart: UnsafeRawPointer?
    private var lineCount = 0
    /// The borrowed line is plain (`JSONScanner.Object.isPlain`): a string value's text is its bytes
    /// between the quotes, with no look for a backslash. False for bytes of the record's own.
    private(set) var isPlain = false

    package init() {}

    package func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        if let lineStart { return try body(UnsafeRawBufferPointer(start: lineStart, count: lineCount)) }
        return try owned.withUnsafeBytes(body)
    }

    package var count: Int { lineStart == nil ? owned.count : lineCount }

    package subscript(position: Int) -> UInt8 { withUnsafeBytes { $0[position] } }

    /// Reads `line` in place (see the type's comment for how long it may).
    @inline(__always)
    mutating func borrow(_ line: UnsafeRawBufferPointer, plain: Bool) {
        // An empty line has no address: it is copied (as nothing).
        guard let start = line.baseAddress else { return removeAll() }
        (lineStart, lineCount, isPlain) = (start, line.count, plain)
    }

    /// Empty and its own, its room kept.
    mutating func removeAll() {
        lineStart = nil
        isPlain = false
        owned.removeAll(keepingCapacity: true)
    }

    /// The bytes as an array of the record's own, to append to or cut (a borrowed line is copied
    /// into it first).
    var storage: [UInt8] {
        mutating get {
            own()
            return owned
        }
        _modify {
            own()
            yield &owned
        }
    }

    private mutating func own() {
        guard let lineStart else { return }
        owned.removeAll(keepingCapacity: true)
        owned.appendBytes(UnsafeRawBufferPointer(start: lineStart, count: lineCount))
        self.lineStart = nil
        isPlain = false
    }
}
