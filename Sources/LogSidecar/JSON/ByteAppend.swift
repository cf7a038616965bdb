extension [UInt8] {
    /// One copy, however long: `append(contentsOf:)` with a raw buffer costs about a hundred
    /// instructions a call before it copies, and the filters and the escaper append many short pieces.
    @inline(__always)
    mutating func appendBytes(_ raw: UnsafeRawBufferPointer) {
        guard let base = raw.baseAddress, raw.count > 0 else { return }
        append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: raw.count))
    }
}
