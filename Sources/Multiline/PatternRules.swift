import Configuration
import Records

/// `start`: a line that matches begins a record and the lines that do not continue it. A line that
/// does not match with no such record open is a record of its own.
struct StartPatternRule: LineRule {
    let pattern: PCRERegex
    /// The pending record began with a match.
    private var open = false

    init(pattern: PCRERegex) { self.pattern = pattern }

    mutating func role(of line: UnsafeRawBufferPointer, pending: Bool) -> LineRole {
        if pattern.matches(line) {
            open = true
            return .start
        }
        if pending && open { return .continuation }
        open = false
        return .start
    }
}

/// `continue`: a line that matches continues the pending record; any other line begins one.
struct ContinuePatternRule: LineRule {
    let pattern: PCRERegex

    mutating func role(of line: UnsafeRawBufferPointer, pending: Bool) -> LineRole {
        pending && pattern.matches(line) ? .continuation : .start
    }
}
