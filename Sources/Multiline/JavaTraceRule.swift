import Records

/// `java`: a log line and the throwable it reports, as `Throwable.printStackTrace` prints it: the
/// exception's line (`java.lang.IllegalStateException: …`), its frames (`\tat …`), `... N more`,
/// `Caused by: …` and `Suppressed: …` (indented by their depth), nested to any depth. The JVM's
/// `Exception in thread "main" …` begins a record, as any line that is none of these does.
struct JavaTraceRule: LineRule {
    mutating func role(of line: UnsafeRawBufferPointer, pending: Bool) -> LineRole {
        guard pending else { return .start }
        if line.isIndented || line.starts(with: "Caused by: ") || line.starts(with: "Suppressed: ") || line.starts(with: "... ") {
            return .continuation
        }
        return Self.isThrowableLine(line) ? .continuation : .start
    }

    /// `a.b.SomeException`, `a.b.Outer$InnerError` or `a.b.SomeThrowable`, alone or followed by `: `
    /// and its message: a qualified class name whose simple name ends like a throwable's.
    static func isThrowableLine(_ line: UnsafeRawBufferPointer) -> Bool {
        var end = 0
        var dots = 0
        while end < line.count {
            let byte = line[end]
            if byte == UInt8(ascii: ":") { break }
            if byte == UInt8(ascii: ".") {
                dots += 1
            } else if !(byte.isASCIILetterOrDigit || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "$")) {
                return false
            }
            end += 1
        }
        guard dots > 0, end == line.count || (end + 1 < line.count && line[end + 1] == 0x20) || end + 1 == line.count else { return false }
        let name = UnsafeRawBufferPointer(rebasing: line[..<end])
        return name.ends(with: "Exception") || name.ends(with: "Error") || name.ends(with: "Throwable")
    }
}

extension UInt8 {
    var isASCIILetterOrDigit: Bool {
        (self >= 0x30 && self <= 0x39) || (self | 0x20 >= 0x61 && self | 0x20 <= 0x7A)
    }
}

extension UnsafeRawBufferPointer {
    func ends(with suffix: StaticString) -> Bool {
        let count = suffix.utf8CodeUnitCount
        guard self.count >= count else { return false }
        for index in 0..<count where self[self.count - count + index] != suffix.utf8Start[index] { return false }
        return true
    }
}
