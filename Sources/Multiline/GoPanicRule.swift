import Records

/// `go`: `panic: …` or `fatal error: …` and every goroutine dump that follows, as the runtime prints
/// them: `goroutine N [state]:`, function lines (`main.worker(0xc000012345)`) and their indented
/// `/path/file.go:N +0x…` lines, `created by …`, `[signal …`, `runtime stack:`, `...additional frames
/// elided...`, a panic while panicking, and the blank lines between them.
struct GoPanicRule: LineRule {
    private var inPanic = false

    mutating func role(of line: UnsafeRawBufferPointer, pending: Bool) -> LineRole {
        let opens = line.starts(with: "panic: ") || line.starts(with: "fatal error: ")
        if inPanic && pending {
            if opens || Self.continuesDump(line) { return .continuation }
            if line.isBlank { return .tentative }
        }
        inPanic = opens
        return .start
    }

    static func continuesDump(_ line: UnsafeRawBufferPointer) -> Bool {
        line.isIndented || line.starts(with: "goroutine ") || line.starts(with: "created by ") || line.starts(with: "[")
            || line.starts(with: "runtime stack:") || line.starts(with: "...") || line.starts(with: "panic(")
            || isFunctionLine(line)
    }

    /// `pkg.function(args)` or `pkg.(*T).method(...)`: no space before the first `(`, and a `)` last.
    static func isFunctionLine(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let last = line.last, last == UInt8(ascii: ")"), let open = line.firstIndex(of: UInt8(ascii: "(")), open > 0 else {
            return false
        }
        let name = UnsafeRawBufferPointer(rebasing: line[..<open])
        if name.last == UInt8(ascii: ".") {
            // `pkg.(*T).method(`: the receiver's parenthesis comes first.
            return !name.contains(0x20) && line.contains(UInt8(ascii: "."))
        }
        return !name.contains(0x20) && name.contains(UInt8(ascii: "."))
    }
}
