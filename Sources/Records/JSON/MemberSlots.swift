extension JSONScanner.Member {
    /// What a slot holds before a scan fills it.
    @inlinable package static var unset: Self { Self(key: 0..<0, keyIsEscaped: false, value: 0..<0, valueIsString: false) }
}

extension Array where Element == JSONScanner.Member {
    /// `scanIntoSlots(unset:_:)` for the scanner's members.
    @inlinable @inline(__always)
    package mutating func scanIntoSlots<Result>(
        _ scan: (UnsafeMutableBufferPointer<JSONScanner.Member>) -> (result: Result?, found: Int)
    ) -> (result: Result?, found: Int) {
        scanIntoSlots(unset: .unset, scan)
    }
}

extension Array {
    /// Runs `scan`, which reads one line and stores its members into these slots, kept by the caller
    /// from line to line, through the pointer it is given (an append a member, with its uniqueness and
    /// capacity checks, cost more than the store), and returns its result (nil: not an object) and how
    /// many members the line has. When they did not all fit, the slots grow to at least that many and
    /// `scan` runs again, so it must start afresh each time; this happens only for a line with more
    /// members than any before it. Inlined, so that the scanner's per-member closure stays in its loop.
    @inlinable @inline(__always)
    package mutating func scanIntoSlots<Result>(
        unset: Element, _ scan: (UnsafeMutableBufferPointer<Element>) -> (result: Result?, found: Int)
    ) -> (result: Result?, found: Int) {
        while true {
            let outcome = withUnsafeMutableBufferPointer { scan($0) }
            guard outcome.result != nil, outcome.found > count else { return outcome }
            append(contentsOf: repeatElement(unset, count: Swift.max(outcome.found, 2 * count) - count))
        }
    }
}
