import Glibc
import SystemSupport

/// One line as the splitter hands it out; its bytes are valid only during the callback.
package enum Line {
    /// A line without its `\n`.
    case complete(UnsafeRawBufferPointer)
    /// The first `max_line_bytes` of a longer line (cut at a UTF-8 boundary) and the line's full length.
    case truncated(head: UnsafeRawBufferPointer, originalBytes: Int)

    /// How many bytes of the input the line took, without its `\n`.
    package var byteCount: Int {
        switch self {
        case .complete(let bytes): return bytes.count
        case .truncated(_, let originalBytes): return originalBytes
        }
    }
}

/// Splits the bytes of one file into lines with `memchr`, reading straight into the shared
/// `ReadBuffer` so a line is never copied on the way. Memory is bounded by `max_line_bytes` plus one
/// read, whatever the length of the lines: the rest of an over-long line is counted and skipped.
package struct LineSplitter {
    private let buffer: ReadBuffer
    private let state = SplitState()
    private let maxLineBytes: Int

    /// A splitter with a buffer of its own (tests, the fuzzer).
    package init(maxLineBytes: Int, readSize: Int = 256 << 10) {
        self.init(maxLineBytes: maxLineBytes, sharing: ReadBuffer(readSize: readSize))
    }

    package init(maxLineBytes: Int, sharing buffer: ReadBuffer) {
        self.maxLineBytes = maxLineBytes
        self.buffer = buffer
    }

    /// Bytes consumed from the file that belong to a line not yet complete: the checkpoint stays before them.
    package var pendingBytes: Int {
        let held = buffer.isOwned(by: state) ? buffer.end - buffer.start : state.carry.count
        return state.oversizedHead == nil ? held : state.oversizedLength + held
    }

    /// Reads once from `fd` into the buffer; returns the number of bytes read (0 at end of file).
    /// Call `forEachLine` before another splitter uses the shared buffer.
    package func read(from fd: Int32) throws(SystemError) -> Int {
        try readSome(from: fd).count
    }

    /// One read, and whether it came back short: a regular file was at its end just then, so asking
    /// again at once would only return 0.
    package func readSome(from fd: Int32) throws(SystemError) -> (count: Int, short: Bool) {
        let (count, room) = try readAvailable(from: fd)
        return (count ?? 0, (count ?? 0) < room)
    }

    /// One read: the byte count (0 at the end, nil when a non-blocking pipe is empty for now) and the
    /// room it was given.
    package func readAvailable(from fd: Int32) throws(SystemError) -> (count: Int?, room: Int) {
        buffer.claim(state, maxLineBytes: maxLineBytes)
        buffer.makeRoom(maxLineBytes: maxLineBytes)
        let room = buffer.capacity - buffer.end
        let target = buffer.bytes + buffer.end
        let count = try syscall("read", "fd \(fd)") { Glibc.read(fd, target, room) }
        buffer.end += count ?? 0
        return (count, room)
    }

    /// The last `count` bytes the last read returned, valid until the lines are taken from the buffer.
    package func lastRead(_ count: Int) -> UnsafeRawBufferPointer {
        let count = min(max(count, 0), buffer.end)
        return UnsafeRawBufferPointer(start: buffer.bytes + (buffer.end - count), count: count)
    }

    /// Feeds bytes from memory, handing out each line completed by them, as `read` + `forEachLine` do.
    package func append(_ bytes: UnsafeRawBufferPointer, _ body: (Line) -> Void) {
        buffer.claim(state, maxLineBytes: maxLineBytes)
        var offset = 0
        while offset < bytes.count {
            buffer.makeRoom(maxLineBytes: maxLineBytes)
            let count = min(buffer.capacity - buffer.end, bytes.count - offset)
            (buffer.bytes + buffer.end).copyMemory(from: bytes.baseAddress! + offset, byteCount: count)
            buffer.end += count
            offset += count
            forEachLine(body)
        }
    }

    /// Calls `body` for every complete line in the buffer, in order.
    package func forEachLine(_ body: (Line) -> Void) {
        buffer.claim(state, maxLineBytes: maxLineBytes)
        let base = buffer.bytes
        var start = buffer.start
        let end = buffer.end
        defer { settle() }
        while start < end {
            guard let newline = memchr(base + start, Int32(UInt8(ascii: "\n")), end - start) else { break }
            let lineEnd = newline - UnsafeMutableRawPointer(base)
            if let head = state.oversizedHead {
                state.oversizedHead = nil
                let length = state.oversizedLength + (lineEnd - start)
                state.oversizedLength = 0
                head.withUnsafeBytes { body(.truncated(head: $0, originalBytes: length)) }
            } else if lineEnd - start > maxLineBytes {
                let line = UnsafeRawBufferPointer(start: base + start, count: lineEnd - start)
                let cut = UTF8Validation.boundary(line, limit: maxLineBytes)
                body(.truncated(head: UnsafeRawBufferPointer(rebasing: line[0..<cut]), originalBytes: line.count))
            } else {
                body(.complete(UnsafeRawBufferPointer(start: base + start, count: lineEnd - start)))
            }
            start = lineEnd + 1
            buffer.start = start
        }
    }

    /// After splitting: an empty buffer starts over at 0, and a line past the limit starts being skipped.
    private func settle() {
        if buffer.start == buffer.end {
            buffer.start = 0
            buffer.end = 0
        }
        if state.oversizedHead != nil {
            state.oversizedLength += buffer.end - buffer.start
            buffer.start = 0
            buffer.end = 0
        } else if buffer.end - buffer.start > maxLineBytes {
            let pending = UnsafeRawBufferPointer(start: buffer.bytes + buffer.start, count: buffer.end - buffer.start)
            let cut = UTF8Validation.boundary(pending, limit: maxLineBytes)
            state.oversizedHead = Array(pending[0..<cut])
            state.oversizedLength = pending.count
            buffer.start = 0
            buffer.end = 0
        }
    }

    /// Hands out the incomplete last line (at rotation or shutdown, after the grace period) and forgets it.
    package func takePartial(_ body: (Line) -> Void) {
        buffer.claim(state, maxLineBytes: maxLineBytes)
        if let head = state.oversizedHead {
            let length = state.oversizedLength + (buffer.end - buffer.start)
            head.withUnsafeBytes { body(.truncated(head: $0, originalBytes: length)) }
        } else if buffer.end > buffer.start {
            body(.complete(UnsafeRawBufferPointer(start: buffer.bytes + buffer.start, count: buffer.end - buffer.start)))
        }
        reset()
    }

    /// Forgets everything buffered (the file was truncated under us).
    package func reset() {
        buffer.release(state)
        state.oversizedHead = nil
        state.oversizedLength = 0
    }
}
