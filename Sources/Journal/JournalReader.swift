import CLinux
import CSystemd
import Glibc
import SystemSupport

/// The reader process: `log-sidecar --journal-reader ARGUMENTS…`, started by the daemon with its
/// stdout on a pipe. It opens the journal with sd-journal, finds where to start, and writes every
/// entry as a frame (`JournalFrame`) until the daemon goes away. sd-journal reads journal files through
/// `mmap`, and a file truncated under it raises SIGBUS: that kills this process, never the daemon,
/// which starts another from the last entry it took.
package enum JournalReader {
    /// Runs the reader; returns its exit status (it returns only when the journal cannot be opened or
    /// the daemon is gone).
    package static func main(_ arguments: [String]) -> Int32 {
        // The daemon may be killed with SIGKILL: the reader must not live on, writing into nothing.
        // The Swift runtime's crash handler returns from a SIGBUS, and the faulting access runs again,
        // for ever: the reader must die of it, so that the daemon starts another.
        signal(SIGBUS, SIG_DFL)
        let parent = getppid()
        _ = clinux_die_with_parent()
        if getppid() != parent { return 0 }
        var output = FrameOutput(descriptor: 1)
        guard let arguments = JournalReaderArguments(decoding: arguments) else {
            output.send(.problem("the journal reader's arguments are not understood: \(arguments)", fatal: true))
            return 2
        }
        var error = [CChar](repeating: 0, count: 256)
        guard lsc_journal_load(&error, error.count) == 0 else {
            output.send(.problem(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), fatal: true))
            return 3
        }
        var journal: OpaquePointer?
        let opened: Int32
        let source: String
        switch arguments.source {
        case .local:
            opened = lsc_journal_open_local(&journal)
            source = "the local journal"
        case .directory(let path):
            opened = lsc_journal_open_directory(&journal, path)
            source = "journal files in \(path)"
        case .namespace(let name):
            opened = lsc_journal_open_namespace(&journal, name)
            source = "the journal namespace \(name)"
        }
        guard opened >= 0, let journal else {
            output.send(.problem("cannot open \(source): \(String(cString: strerror(-opened)))", fatal: true))
            return 3
        }
        defer { lsc_journal_close(journal) }
        // Whole values: sd-journal's default threshold cuts every field at 64 KiB; ours are cut at
        // max_line_bytes and flagged, as a long line is.
        _ = lsc_journal_set_data_threshold(journal, 0)
        var reader = Reading(journal: journal, arguments: arguments, output: output)
        guard reader.start(source: source) else { return 3 }
        reader.follow()
        return 0
    }
}

/// The reader's state once the journal is open.
private struct Reading {
    let journal: OpaquePointer
    let arguments: JournalReaderArguments
    var output: FrameOutput
    var record: JournalRecord
    /// The current entry is the first to ship (resuming found a different one at the stored cursor).
    var shipCurrent = false

    init(journal: OpaquePointer, arguments: JournalReaderArguments, output: FrameOutput) {
        self.journal = journal
        self.arguments = arguments
        self.output = output
        record = JournalRecord(fields: arguments.fields, maxValueBytes: arguments.maxValueBytes)
    }

    /// Finds the starting point: just after the stored cursor's entry (resuming), the oldest entry kept
    /// (a first start from the beginning, or a cursor whose entry was vacuumed), or just after the
    /// newest entry (`read_from: end`).
    mutating func start(source: String) -> Bool {
        var found = false
        if let cursor = arguments.cursor {
            // Looked up before any match is added: whether the entry itself is still in the journal.
            found = lsc_journal_seek_cursor(journal, cursor) >= 0 && lsc_journal_next(journal) > 0 && lsc_journal_test_cursor(journal, cursor) > 0
            if !found { reportLostCursor(cursor) }
        }
        for term in arguments.terms {
            let result: Int32
            switch term {
            case .match(let match): result = match.withCString { lsc_journal_add_match(journal, $0, strlen($0)) }
            case .or: result = lsc_journal_add_disjunction(journal)
            case .and: result = lsc_journal_add_conjunction(journal)
            }
            guard result >= 0 else {
                output.send(.problem("the journal refused the match \(term): \(String(cString: strerror(-result)))", fatal: true))
                output.flush()
                return false
            }
        }
        if let cursor = arguments.cursor, found {
            // Seek, step once, and skip the entry only if it is the stored one: stepping twice would
            // lose an entry, not skipping would repeat one.
            _ = lsc_journal_seek_cursor(journal, cursor)
            if lsc_journal_next(journal) > 0 && lsc_journal_test_cursor(journal, cursor) <= 0 { shipCurrent = true }
        } else if arguments.cursor == nil && arguments.readFromEnd {
            _ = lsc_journal_seek_tail(journal)
            if lsc_journal_previous(journal) > 0, let cursor = currentCursor() {
                var realtime: UInt64 = 0
                _ = lsc_journal_get_realtime_usec(journal, &realtime)
                output.send(.position(cursor: cursor, realtimeUsec: realtime))
            }
        } else {
            _ = lsc_journal_seek_head(journal)
        }
        output.send(.opened(source: source))
        output.flush()
        return output.alive
    }

    /// The stored entry is gone. Vacuuming removes whole files from the oldest on, so if the oldest
    /// entry kept is not the one right after ours, entries between were removed unread: a loss we
    /// could not prevent, reported with how far reading jumps.
    mutating func reportLostCursor(_ stored: String) {
        _ = lsc_journal_seek_head(journal)
        guard lsc_journal_next(journal) > 0, let head = currentCursor() else {
            output.send(.cursorLost("the stored cursor's entry is gone and the journal is empty; reading from its start (stored: \(stored))"))
            return
        }
        let was = CursorFields(stored)
        let now = CursorFields(head)
        if let was, let now, was.seqnumID == now.seqnumID, now.seqnum <= was.seqnum + 1 { return }
        var text = "the stored cursor's entry is no longer in the journal (vacuumed or rotated away); continuing at the oldest entry kept"
        if let was, let now {
            if was.seqnumID == now.seqnumID {
                text += ": jumped over \(now.seqnum &- was.seqnum &- 1) entries (sequence number \(was.seqnum) to \(now.seqnum))"
            }
            text += ", \((Int64(bitPattern: now.realtime &- was.realtime)) / 1_000_000) s later"
        }
        output.send(.cursorLost(text + " (stored: \(stored))"))
    }

    func currentCursor() -> String? {
        var pointer: UnsafeMutablePointer<CChar>?
        guard lsc_journal_get_cursor(journal, &pointer) >= 0, let pointer else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    /// Ships entries as they come, sleeping in `sd_journal_wait` when there are none.
    mutating func follow() {
        var failures = 0
        var sinceProcess = 0
        var lastEntryMs: Int64 = 0
        var scratch: [UInt8] = []
        while output.alive {
            let step: Int32
            if shipCurrent {
                shipCurrent = false
                step = 1
            } else {
                step = lsc_journal_next(journal)
            }
            if step > 0 {
                failures = 0
                lastEntryMs = MonotonicClock.milliseconds()
                ship(into: &scratch)
                sinceProcess += 1
                // While a backlog is read there is no wait: deleted and rotated files are taken in
                // here, so a vacuumed file's space comes back during a long catch-up too.
                if sinceProcess >= 4096 || output.pending >= FrameOutput.flushBytes {
                    _ = lsc_journal_process(journal)
                    output.flush()
                    sinceProcess = 0
                }
                continue
            }
            if step < 0 {
                failures += 1
                // EBADMSG: a corrupt entry or file. Counted, skipped; a run of them costs a pause, not a spin.
                output.send(.corrupt("cannot read the next entry: \(String(cString: strerror(-step)))"))
                if failures % 64 != 0 { continue }
            }
            output.flush()
            sinceProcess = 0
            // journald tells readers of new entries at most every 250 ms (it coalesces its change
            // notifications). While entries keep coming, the journal is looked at every 2 ms instead;
            // after a quiet second the reader sleeps until journald's notification, costing nothing.
            let quiet = MonotonicClock.milliseconds() - lastEntryMs >= 1000
            let woke = lsc_journal_wait(journal, step < 0 ? 100_000 : quiet ? UInt64.max : 2_000)
            if woke < 0 {
                output.send(.problem("waiting for the journal failed: \(String(cString: strerror(-woke)))", fatal: false))
                output.flush()
                usleep(1_000_000)
            }
        }
    }

    /// The current entry as a frame; an entry that cannot be read whole is counted and skipped.
    mutating func ship(into scratch: inout [UInt8]) {
        // The cursor stays sd-journal's C string: made a String only for a message.
        var pointer: UnsafeMutablePointer<CChar>?
        guard lsc_journal_get_cursor(journal, &pointer) >= 0, let pointer else {
            output.send(.corrupt("an entry without a cursor"))
            return
        }
        defer { free(pointer) }
        let cursor = UnsafeRawBufferPointer(start: pointer, count: strlen(pointer))
        var realtime: UInt64 = 0
        let timed = lsc_journal_get_realtime_usec(journal, &realtime)
        record.reset()
        lsc_journal_restart_data(journal)
        while true {
            var data: UnsafeRawPointer?
            var length = 0
            let result = lsc_journal_enumerate_data(journal, &data, &length)
            if result == 0 { break }
            guard result > 0, let data else {
                output.send(.corrupt("entry \(String(cString: pointer)): \(String(cString: strerror(-result)))"))
                return
            }
            record.add(UnsafeRawBufferPointer(start: data, count: length))
        }
        if timed < 0 { realtime = 0 }
        scratch.removeAll(keepingCapacity: true)
        record.finish(realtimeUsec: realtime, into: &scratch)
        output.send(cursor: cursor, realtimeUsec: realtime, record: scratch)
    }
}

/// A cursor's sequence number, its sequence's ID and the entry's realtime (`s=…;i=…;…;t=…`).
struct CursorFields {
    let seqnumID: Substring
    let seqnum: UInt64
    let realtime: UInt64

    init?(_ cursor: String) {
        var id: Substring?
        var seqnum: UInt64?
        var realtime: UInt64?
        for part in cursor.split(separator: ";") {
            guard part.count > 2, part.dropFirst().first == "=" else { continue }
            let value = part.dropFirst(2)
            switch part.first {
            case "s": id = value
            case "i": seqnum = UInt64(value, radix: 16)
            case "t": realtime = UInt64(value, radix: 16)
            default: break
            }
        }
        guard let id, let seqnum, let realtime else { return nil }
        (seqnumID, self.seqnum, self.realtime) = (id, seqnum, realtime)
    }
}

/// Frames into one buffer, written to the pipe when it is full or the reader is about to wait.
/// A write blocks while the daemon's sinks stall: the journal is the buffer, as a file is.
private struct FrameOutput {
    let descriptor: Int32
    private var buffer: [UInt8] = []
    private(set) var alive = true
    static let flushBytes = 256 << 10

    init(descriptor: Int32) { self.descriptor = descriptor }

    var pending: Int { buffer.count }

    mutating func send(_ frame: JournalFrame) {
        frame.encode(into: &buffer)
        if buffer.count >= Self.flushBytes { flush() }
    }

    mutating func send(cursor: UnsafeRawBufferPointer, realtimeUsec: UInt64, record: [UInt8]) {
        JournalFrame.encodeEntry(cursor: cursor, realtimeUsec: realtimeUsec, record: record, into: &buffer)
    }

    mutating func flush() {
        var done = 0
        while done < buffer.count && alive {
            let written = buffer.withUnsafeBytes { bytes in
                bytes.baseAddress.map { write(descriptor, $0 + done, bytes.count - done) } ?? 0
            }
            if written > 0 {
                done += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                alive = false  // the daemon closed its end: it is stopping or gone
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
