import Records

/// `python`: a log line followed by the traceback `logging.exception` or the interpreter prints:
/// `Traceback (most recent call last):`, the indented frames and source lines (3.11's `^^^^` markers
/// too), the exception's own line, and chained exceptions (`During handling of the above exception,
/// another exception occurred:`, `The above exception was the direct cause of the following
/// exception:`, with the blank lines around them) and exception groups (their indented `| ` tree).
struct PythonTraceRule: LineRule {
    private enum State { case outside, frames, groupFrames, afterException }
    private var state = State.outside

    mutating func role(of line: UnsafeRawBufferPointer, pending: Bool) -> LineRole {
        if line.starts(with: "Traceback (most recent call last):") {
            state = .frames
            return pending ? .continuation : .start
        }
        if Self.opensGroup(line) {
            // An exception group's tree is indented whole, its exception lines included.
            state = .groupFrames
            return pending ? .continuation : .start
        }
        guard pending else {
            state = .outside
            return .start
        }
        switch state {
        case .outside:
            return .start
        case .groupFrames:
            if line.isIndented { return .continuation }
            if line.isBlank { return .tentative }
            state = .outside
            return .start
        case .frames:
            if line.isIndented { return .continuation }
            if line.isBlank { return .tentative }
            // The first line back at the margin is the exception's own.
            state = .afterException
            return .continuation
        case .afterException:
            if line.isBlank { return .tentative }
            if line.isIndented || line.starts(with: "During handling of the above exception")
                || line.starts(with: "The above exception was the direct cause")
            {
                return .continuation
            }
            state = .outside
            return .start
        }
    }

    /// `  + Exception Group Traceback (most recent call last):`, at any indentation.
    static func opensGroup(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let plus = line.firstIndex(where: { $0 != 0x20 }), line[plus] == UInt8(ascii: "+") else { return false }
        return UnsafeRawBufferPointer(rebasing: line[plus...]).starts(with: "+ Exception Group Traceback")
    }
}
