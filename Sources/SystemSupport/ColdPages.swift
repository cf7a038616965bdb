import Glibc
import Synchronization

/// Gives the kernel back the clean, file-backed pages the process mapped and no longer uses: code and
/// constants of our own executable and of the shared libraries. With the Swift runtime linked
/// statically, the kernel's fault-around maps most of the 13 MB binary while we start (argument
/// parsing, configuration, the runtime's conformance scans), and every burst of work
/// since (a catch-up, the first HTTP request, a scrape) maps 64 KiB around each page it touches; those
/// pages then count as our resident memory although a quiet daemon uses a small part of them.
///
/// A read-only mapping of a file with no copied-on-write page in it (`Anonymous: 0 kB` in
/// /proc/self/smaps) holds nothing but the page cache's own pages: MADV_DONTNEED unmaps them and leaves
/// them in the page cache, so what is used again is a minor fault, not a read of the disk. A read-only
/// mapping that was written before it was made read-only (the loader's relocations) has private copies
/// that DONTNEED would replace with the file's unrelocated bytes: those mappings get MADV_PAGEOUT
/// (Linux 5.4), which keeps the contents. PAGEOUT on the clean ones instead would evict the pages from the
/// page cache (nobody else maps our binary), and the next scrape would read them back from the disk.
/// Measured: Benchmarks/README.md, "Footprint".
package enum ColdPages {
    package static let pageOut: Int32 = 21  // MADV_PAGEOUT, not in Glibc's headers on Debian 12

    /// The advice the last read of smaps gave each mapping it released. smaps is costly to read: the
    /// kernel walks every mapping's page tables for its counts and hands it over one mapping a read
    /// (0.3 of the 0.5 ms a release took, tracefs). Which mappings hold private copies does not change
    /// once the loader is done with them, so a later release reads /proc/self/maps, which has the same
    /// first lines without the walk, and gives each mapping found there the advice it had. A
    /// releasable mapping not known by its range and inode (a library loaded since) sends it back to smaps.
    private static let known = Mutex<[MappingAdvice]>([])
    /// Reads of smaps so far, for the tests.
    package static let smapsReads = Atomic<Int>(0)

    package static func release() {
        known.withLock { known in
            if !known.isEmpty, releaseKnown(known) { return }
            known.removeAll(keepingCapacity: true)
            releaseFromSmaps(into: &known)
        }
    }

    /// Advises every releasable mapping of /proc/self/maps as before; false when one is not known (or
    /// maps could not be read), and smaps must be read.
    private static func releaseKnown(_ known: [MappingAdvice]) -> Bool {
        var allKnown = true
        let read = forEachLine("/proc/self/maps") { line in
            guard let mapping = SmapsAdvice.mapping(line), mapping.releasable else { return true }
            guard let entry = known.first(where: { $0.start == mapping.start && $0.end == mapping.end && $0.inode == mapping.inode })
            else {
                allKnown = false
                return false
            }
            _ = madvise(UnsafeMutableRawPointer(bitPattern: entry.start), Int(entry.end - entry.start), entry.advice)
            return true
        }
        return read && allKnown
    }

    private static func releaseFromSmaps(into known: inout [MappingAdvice]) {
        smapsReads.add(1, ordering: .relaxed)
        var plan = SmapsAdvice()
        _ = forEachLine("/proc/self/smaps") { line in
            if let advice = plan.line(line) {
                _ = madvise(UnsafeMutableRawPointer(bitPattern: advice.start), Int(advice.end - advice.start), advice.advice)
                known.append(advice)
            }
            return true
        }
    }

    /// Calls `body` with each line of the file at `path` (without its newline) until it returns false;
    /// false when the file could not be opened. smaps runs to hundreds of KiB once libcurl's libraries
    /// are mapped: read in pieces into a buffer of its own mapping, so that the walk leaves nothing
    /// behind in the heap.
    private static func forEachLine(_ path: String, _ body: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let capacity = 1 << 16
        guard let buffer = mmap(nil, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            buffer != MAP_FAILED
        else { return false }
        defer { munmap(buffer, capacity) }
        var kept = 0
        while true {
            let count = read(fd, buffer + kept, capacity - kept)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return true }
            let bytes = UnsafeRawBufferPointer(start: buffer, count: kept + count)
            var lineStart = 0
            while let found = memchr(buffer + lineStart, 0x0A, bytes.count - lineStart) {
                let newline = buffer.distance(to: found)
                guard body(UnsafeRawBufferPointer(rebasing: bytes[lineStart..<newline])) else { return true }
                lineStart = newline + 1
            }
            kept = bytes.count - lineStart
            // A line longer than the buffer is no line we act on (a mapping's line is at most a path).
            if kept == capacity { kept = 0 }
            if kept > 0 { memmove(buffer, buffer + lineStart, kept) }
        }
    }
}

/// A mapping by its range and its file's inode, and the advice to give it.
struct MappingAdvice {
    var start: UInt
    var end: UInt
    var inode: UInt
    var advice: Int32
}

/// Reads /proc/self/smaps a line at a time and says what to advise the kernel of each mapping: only
/// read-only mappings of files ([vdso] and the like are not files; writable mappings hold live data),
/// MADV_DONTNEED when none of its pages is a private copy (`Anonymous: 0 kB`), MADV_PAGEOUT otherwise.
struct SmapsAdvice {
    private static let anonymous = Array("Anonymous:".utf8)
    /// The mapping whose field lines follow, while it is one to release.
    private var candidate: MappingAdvice?

    mutating func line(_ line: UnsafeRawBufferPointer) -> MappingAdvice? {
        if let mapping = Self.mapping(line) {
            candidate = mapping.releasable ? MappingAdvice(start: mapping.start, end: mapping.end, inode: mapping.inode, advice: MADV_DONTNEED) : nil
            return nil
        }
        guard var mapping = candidate, line.starts(with: Self.anonymous) else { return nil }
        candidate = nil
        let value = line.dropFirst(Self.anonymous.count).drop(while: { $0 == UInt8(ascii: " ") })
        if !value.starts(with: [UInt8(ascii: "0"), UInt8(ascii: " ")]) { mapping.advice = ColdPages.pageOut }
        return mapping
    }

    /// A mapping's first line ("start-end perms offset dev inode path", also a line of
    /// /proc/self/maps), or nil for the lines of its fields ("Rss:   12 kB", "VmFlags: rd ex"). Read in
    /// place: smaps has a dozen lines per mapping and this runs on each, so it allocates nothing.
    static func mapping(_ line: UnsafeRawBufferPointer) -> (start: UInt, end: UInt, inode: UInt, releasable: Bool)? {
        var cursor = 0
        guard let start = hex(line, &cursor, until: UInt8(ascii: "-")), let end = hex(line, &cursor, until: UInt8(ascii: " ")),
            start < end, let permissions = field(line, &cursor)
        else { return nil }
        // Offset and device, the inode, then the path if there is one (only its first byte matters).
        for _ in 0..<2 { guard field(line, &cursor) != nil else { return nil } }
        guard let inodeField = field(line, &cursor) else { return nil }
        var inode: UInt = 0
        for byte in line[inodeField] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow) = inode.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            inode = times10 &+ UInt(byte &- UInt8(ascii: "0"))
        }
        let path = field(line, &cursor)
        let releasable = path.map { line[$0.lowerBound] == UInt8(ascii: "/") } == true && !line[permissions].contains(UInt8(ascii: "w"))
        return (start, end, inode, releasable)
    }

    /// The next run of bytes other than spaces, from `cursor` on; nil at the end of the line.
    private static func field(_ line: UnsafeRawBufferPointer, _ cursor: inout Int) -> Range<Int>? {
        while cursor < line.count && line[cursor] == UInt8(ascii: " ") { cursor += 1 }
        let start = cursor
        while cursor < line.count && line[cursor] != UInt8(ascii: " ") { cursor += 1 }
        return cursor > start ? start..<cursor : nil
    }

    /// A bound of the mapping's range: 1 to 16 lowercase hex digits (as the kernel prints them) up to
    /// `terminator`, which is passed over; nil for anything else, a field line's name among them.
    private static func hex(_ line: UnsafeRawBufferPointer, _ cursor: inout Int, until terminator: UInt8) -> UInt? {
        var value: UInt = 0
        let start = cursor
        while cursor < line.count && cursor - start <= 16 {
            let byte = line[cursor]
            cursor += 1
            if byte == terminator { return cursor - 1 > start ? value : nil }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt(digit)
        }
        return nil
    }
}

/// When to call `ColdPages.release` again: once the pages that a burst of work mapped (a catch-up,
/// requests to a receiver, a scrape) are no longer in use. Looked at every `intervalMs`, and only when
/// no input came in the interval: the first quiet look releases, and `settleMs` later the file-backed
/// resident memory is noted (the quiet loop has taken its own few pages back by then: its working set);
/// each later quiet look releases again once that memory has grown `thresholdPages` above the note. A
/// daemon with nothing to do therefore never pages its own loop out and in.
package struct PageTrimmer {
    package static let intervalMs: Int64 = 10_000
    package static let settleMs: Int64 = 2_000
    /// 1 MiB of 4 KiB pages.
    package static let thresholdPages = 256

    private let residentFilePages: () -> Int
    private let release: () -> Void
    private var nextLookMs: Int64
    /// When the working set is noted, after a release; nil once it is.
    private var noteAtMs: Int64?
    /// The quiet working set; nil until the first release.
    private var workingSet: Int?
    private var inputAtLook: Int

    /// `residentFilePages`: the process's file-backed resident pages; `release`: gives them back.
    package init(
        nowMs: Int64, inputSoFar: Int, residentFilePages: @escaping () -> Int = PageTrimmer.residentFilePages,
        release: @escaping () -> Void = ColdPages.release
    ) {
        self.residentFilePages = residentFilePages
        self.release = release
        nextLookMs = nowMs + Self.intervalMs
        inputAtLook = inputSoFar
    }

    /// Called by the reading loop every pass; `inputSoFar`: lines (or entries) read since start.
    package mutating func look(nowMs: Int64, inputSoFar: Int) {
        if let noteAt = noteAtMs, nowMs >= noteAt {
            workingSet = residentFilePages()
            noteAtMs = nil
        }
        guard nowMs >= nextLookMs else { return }
        nextLookMs = nowMs + Self.intervalMs
        let quiet = inputSoFar == inputAtLook
        inputAtLook = inputSoFar
        guard quiet, noteAtMs == nil else { return }
        if let workingSet, residentFilePages() <= workingSet + Self.thresholdPages { return }
        release()
        noteAtMs = nowMs + Self.settleMs
    }

    /// `shared` of /proc/self/statm: resident pages backed by a file (code, constants, libraries). Read
    /// into the stack and parsed in place: a quiet loop runs this every 10 s, and an allocation (or a
    /// generic array's first use) would bring its own code and the allocator's into the quiet pages.
    package static func residentFilePages() -> Int {
        let fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        // Seven numbers of at most 20 digits and their separators; a small allocation of this kind is
        // on the stack.
        return withUnsafeTemporaryAllocation(byteCount: 160, alignment: 8) { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            var count = 0
            while count < buffer.count, let got = try? FileIO.read(fd, into: base + count, count: buffer.count - count), got > 0 {
                count += got
            }
            return thirdField(UnsafeRawBufferPointer(start: base, count: count))
        }
    }

    /// The third space-separated decimal number of statm's line; 0 when there is none.
    package static func thirdField(_ line: UnsafeRawBufferPointer) -> Int {
        var field = 0
        var value = 0
        var digits = 0
        for byte in line {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                value = value &* 10 &+ Int(byte &- UInt8(ascii: "0"))
                digits += 1
                continue
            }
            guard digits > 0 else { continue }
            if field == 2 { return value }
            field += 1
            value = 0
            digits = 0
        }
        return field == 2 && digits > 0 ? value : 0
    }
}
