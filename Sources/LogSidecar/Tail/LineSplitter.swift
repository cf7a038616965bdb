import Glibc

/// One line as the splitter hands it out; its bytes are valid only during the callback.
public enum Line {
    /// A line without its `\n`.
    case complete(UnsafeRawBufferPointer)
    /// The first `max_line_bytes` of a longer line (cut at a UTF-8 boundary) and the line's full length.
    case truncated(head: UnsafeRawBufferPointer, originalBytes: Int)
}

/// Splits the bytes of one file into lines with `memchr`, reading straight into its own buffer so a
/// line is never copied on the way. Memory is bounded by `max_line_bytes` plus one read, whatever the
/// length of the lines: the rest of an over-long line is counted and skipped.
public struct LineSplitter: ~Copyable {
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private let readSize: Int
    private let maxLineBytes: Int
    /// Unconsumed bytes are `buffer[start..<end]`; they are the start of a line with no `\n` yet.
    private var start = 0
    private var end = 0
    /// While skipping the rest of an over-long line: its kept head, and how long the line is so far.
    private var oversizedHead: [UInt8]?
    private var oversizedLength = 0

    public init(maxLineBytes: Int, readSize: Int = 256 << 10) {
        self.maxLineBytes = maxLineBytes
        self.readSize = readSize
        capacity = readSize
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Bytes consumed from the file that belong to a line not yet complete: the checkpoint stays before them.
    public var pendingBytes: Int { oversizedHead == nil ? end - start : oversizedLength + (end - start) }

    /// Reads once from `fd` into the buffer; returns the number of bytes read (0 at end of file).
    public mutating func read(from fd: Int32) throws(SystemError) -> Int {
        makeRoom()
        let count = try FileIO.read(fd, into: buffer + end, count: capacity - end)
        end += count
        return count
    }

    /// Feeds bytes from memory, handing out each line completed by them, as `read` + `forEachLine` do.
    public mutating func append(_ bytes: UnsafeRawBufferPointer, _ body: (Line) -> Void) {
        var offset = 0
        while offset < bytes.count {
            makeRoom()
            let count = min(capacity - end, bytes.count - offset)
            (buffer + end).copyMemory(from: bytes.baseAddress! + offset, byteCount: count)
            end += count
            offset += count
            forEachLine(body)
        }
    }

    /// Calls `body` for every complete line in the buffer, in order.
    public mutating func forEachLine(_ body: (Line) -> Void) {
        while start < end {
            guard let newline = memchr(buffer + start, Int32(UInt8(ascii: "\n")), end - start) else { break }
            let lineEnd = newline - UnsafeMutableRawPointer(buffer)
            if let head = oversizedHead {
                oversizedHead = nil
                let length = oversizedLength + (lineEnd - start)
                oversizedLength = 0
                head.withUnsafeBytes { body(.truncated(head: $0, originalBytes: length)) }
            } else if lineEnd - start > maxLineBytes {
                let line = UnsafeRawBufferPointer(start: buffer + start, count: lineEnd - start)
                let cut = UTF8Validation.boundary(line, limit: maxLineBytes)
                body(.truncated(head: UnsafeRawBufferPointer(rebasing: line[0..<cut]), originalBytes: line.count))
            } else {
                body(.complete(UnsafeRawBufferPointer(start: buffer + start, count: lineEnd - start)))
            }
            start = lineEnd + 1
        }
        if start == end { start = 0; end = 0 }
        if oversizedHead != nil {
            oversizedLength += end - start
            start = 0
            end = 0
        } else if end - start > maxLineBytes {
            beginSkipping()
        }
    }

    /// Hands out the incomplete last line (at rotation or shutdown, after the grace period) and forgets it.
    public mutating func takePartial(_ body: (Line) -> Void) {
        if let head = oversizedHead {
            let length = oversizedLength + (end - start)
            head.withUnsafeBytes { body(.truncated(head: $0, originalBytes: length)) }
        } else if end > start {
            body(.complete(UnsafeRawBufferPointer(start: buffer + start, count: end - start)))
        }
        reset()
    }

    /// Forgets everything buffered (the file was truncated under us).
    public mutating func reset() {
        start = 0
        end = 0
        oversizedHead = nil
        oversizedLength = 0
    }

    private mutating func beginSkipping() {
        let pending = UnsafeRawBufferPointer(start: buffer + start, count: end - start)
        let cut = UTF8Validation.boundary(pending, limit: maxLineBytes)
        oversizedHead = Array(pending[0..<cut])
        oversizedLength = end - start
        start = 0
        end = 0
    }

    /// Moves a pending partial line to the front, or grows the buffer while a line is still under the limit.
    private mutating func makeRoom() {
        if capacity - end >= readSize / 4 { return }
        if start > 0 {
            (buffer).copyMemory(from: buffer + start, byteCount: end - start)
            end -= start
            start = 0
        }
        if capacity - end < readSize / 4 {
            let grown = min(capacity * 2, max(capacity, maxLineBytes + readSize))
            if grown > capacity {
                let replacement = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
                replacement.copyMemory(from: buffer, byteCount: end)
                buffer.deallocate()
                buffer = replacement
                capacity = grown
            }
        }
    }
}
