import Glibc

/// Gives the kernel back the clean, file-backed pages the process mapped and no longer uses: code and
/// constants of our own executable and of the shared libraries. With the Swift runtime linked
/// statically, the kernel's fault-around maps most of the 13 MB binary while we start (argument
/// parsing, configuration, NIO's bootstrap, the runtime's conformance scans), and every burst of work
/// since (a catch-up, the first HTTP request, a scrape) maps 64 KiB around each page it touches; those
/// pages then count as our resident memory although a quiet daemon uses a small part of them.
/// MADV_PAGEOUT (Linux 5.4) unmaps them; whatever is used again faults back in from the page cache.
/// The kernel leaves alone the pages that another process maps too (libc, mostly), so only what is ours
/// alone goes. Measured: Benchmarks/README.md, "Footprint". On older kernels this is a no-op.
package enum ColdPages {
    private static let adviceCode: Int32 = 21  // MADV_PAGEOUT, not in Glibc's headers on Debian 12

    package static func release() {
        guard let maps = try? FileIO.readFile("/proc/self/maps") else { return }
        for line in String(decoding: maps, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            // Only read-only mappings of files: code and constants. Writable ones hold live data;
            // [vdso] and the like are not files.
            guard fields.count == 6, !fields[1].contains("w"), fields[5].drop(while: { $0 == " " }).hasPrefix("/") else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16) else { continue }
            _ = madvise(UnsafeMutableRawPointer(bitPattern: start), Int(end - start), adviceCode)
        }
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

    /// `shared` of /proc/self/statm: resident pages backed by a file (code, constants, libraries).
    package static func residentFilePages() -> Int {
        guard let text = try? FileIO.readFile("/proc/self/statm") else { return 0 }
        let fields = text.split(separator: UInt8(ascii: " "))
        guard fields.count > 2 else { return 0 }
        return fields[2].reduce(0) { $0 &* 10 &+ Int($1 &- 0x30) }
    }
}
