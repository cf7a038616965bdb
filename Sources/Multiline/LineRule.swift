import Records

/// What a line is to the record pending before it.
package enum LineRole: Equatable {
    /// It begins a record: the pending one is complete.
    case start
    /// It belongs to the pending record.
    case continuation
    /// A blank line that belongs to the pending record only if a continuation follows it (a blank
    /// line between chained Python exceptions or between Go's goroutine dumps); otherwise it is a
    /// record of its own.
    case tentative
}

/// Decides, line by line, where a source's records begin. A rule may keep state (inside a traceback);
/// each source has its own.
package protocol LineRule {
    /// `line` without its newline; `pending`: a record is pending before it.
    mutating func role(of line: UnsafeRawBufferPointer, pending: Bool) -> LineRole
}

extension UnsafeRawBufferPointer {
    /// Starts with `prefix`.
    @inline(__always)
    func starts(with prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard self.count >= count else { return false }
        for index in 0..<count where self[index] != prefix.utf8Start[index] { return false }
        return true
    }

    /// Begins with a space or a tab.
    var isIndented: Bool { first == 0x20 || first == 0x09 }

    /// Holds nothing but spaces, tabs or a `\r`.
    var isBlank: Bool { allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }
}
