import CLinux
import Configuration
import Glibc
import Logging
import Records
import Synchronization
import SystemSupport
import Telemetry

/// The journal as an input, on the reading loop: the reader process's pipe is one more descriptor in
/// the loop's `poll`, its frames become records handed to the pipeline, and the cursor of the last
/// entry handed over is what the checkpoint stores once every sink has acknowledged it. The reader is
/// a process of its own (`JournalReader`) so that a SIGBUS from a truncated journal file costs a
/// restart of the reader, counted, from the last entry taken, never the daemon.
package final class JournalInput {
    private let settings: JournaldSettings
    private let consumer: any LineConsumer
    private let counters: Counters
    private let logger: Logger
    private let clock: any TimeSource
    private let executable: String
    private let readFromEnd: Bool
    private let maxValueBytes: Int
    private var process: JournalReaderProcess?
    private var buffer = FrameBuffer()
    /// The last entry handed to the pipeline and delivered: where a restarted reader continues and
    /// what the next checkpoint takes.
    package private(set) var cursor: String?
    private var realtimeUsec: UInt64 = 0
    /// The reader is started again at this monotonic ms (after it died or could not open the journal).
    package private(set) var restartAtMs: Int64?
    private var backoff = Backoff(firstMs: 1000, maximumMs: 30_000, jitter: false)
    private var stopping = false

    package init(
        settings: JournaldSettings, cursor: String?, realtimeUsec: UInt64 = 0, readFromEnd: Bool, maxValueBytes: Int, consumer: any LineConsumer,
        counters: Counters, logger: Logger, clock: any TimeSource = SystemClock(), executable: String = "/proc/self/exe"
    ) {
        self.settings = settings
        self.cursor = cursor
        self.realtimeUsec = realtimeUsec
        self.readFromEnd = readFromEnd
        self.maxValueBytes = maxValueBytes
        self.consumer = consumer
        self.counters = counters
        self.logger = logger
        self.clock = clock
        self.executable = executable
    }

    package enum Outcome: Equatable {
        /// The pipe is empty for now.
        case drained
        /// The budget ran out with more to read.
        case more
        /// Delivery was given up (the drain deadline passed).
        case givenUp
    }

    /// What the loop polls: the reader's pipe while a reader runs.
    package var descriptor: Int32? { process?.descriptor }

    /// Starts the reader (again, once its restart time has come).
    package func step() {
        guard process == nil, !stopping, restartAtMs.map({ clock.monotonicMs() >= $0 }) ?? true else { return }
        restartAtMs = nil
        let arguments = JournalReaderArguments(settings: settings, cursor: cursor, readFromEnd: readFromEnd, maxValueBytes: maxValueBytes)
        do {
            process = try JournalReaderProcess.spawn(executable: executable, arguments: [JournalReaderArguments.flag] + arguments.encoded)
        } catch {
            logger.error("cannot start the journal reader; retrying", metadata: ["error": "\(error)"])
            restartAtMs = clock.monotonicMs() + backoff.next()
        }
    }

    /// Reads the frames the reader sent, up to about `budgetBytes`, and hands their records over.
    package func read(budgetBytes: Int = 8 << 20) -> Outcome {
        guard let process else { return .drained }
        var taken = 0
        var batched = 0
        // Counted once per call, not per entry: two atomic adds an entry would be most of the loop's cost.
        var entries = 0
        var bytes = 0
        defer {
            counters.add(counters.journalEntriesRead, entries)
            counters.add(counters.bytesRead, bytes)
        }
        var pendingCursor: (String, UInt64)?
        var lastEntry: (UnsafeRawBufferPointer, UInt64)?
        while taken < budgetBytes {
            let count = buffer.read(from: process.descriptor)
            guard let count else { break }  // empty for now
            if count == 0 {
                // The reader is gone: whatever it sent whole is taken; it starts again after its cursor.
                guard deliver(&pendingCursor) else { return .givenUp }
                readerEnded()
                return .drained
            }
            taken += count
            do {
                while let frame = try buffer.nextFrame() {
                    switch frame {
                    case .entry(let cursor, let realtime, let record):
                        consumer.begin(.journal, format: .json, parser: nil, origins: Self.origins(cursor))
                        consumer.consume(.complete(record), partial: false)
                        lastEntry = (cursor, realtime)
                        batched += record.count
                        entries += 1
                        bytes += record.count
                    case .position(let cursor, let realtime):
                        if pendingCursor == nil && self.cursor == nil { (self.cursor, realtimeUsec) = (cursor, realtime) }
                    case .opened(let source):
                        counters.journalSource.withLock { $0 = source }
                        counters.journalOpen.store(true, ordering: .relaxed)
                        counters.inputError.withLock { if $0.hasPrefix("journal: ") { $0 = "" } }
                        backoff.reset()
                        logger.info("reading the journal", metadata: ["source": "\(source)", "cursor": "\(self.cursor ?? "")"])
                    case .cursorLost(let text):
                        counters.add(counters.journalCursorLost, 1)
                        logger.warning("journal entries were lost while we were stopped", metadata: ["detail": "\(text)"])
                    case .corrupt(let text):
                        counters.add(counters.journalEntriesCorrupt, 1)
                        logger.warning("skipped a journal entry that cannot be read", metadata: ["detail": "\(text)"])
                    case .problem(let text, let fatal):
                        if fatal {
                            counters.inputError.withLock { $0 = "journal: " + text }
                            logger.error("the journal reader stopped", metadata: ["error": "\(text)"])
                        } else {
                            logger.warning("the journal reader", metadata: ["problem": "\(text)"])
                        }
                    }
                    if batched >= RecordBatch.inputBytes {
                        take(&lastEntry, into: &pendingCursor)
                        guard deliver(&pendingCursor) else { return .givenUp }
                        batched = 0
                    }
                }
                // The frames point into the buffer, which the next read may move.
                take(&lastEntry, into: &pendingCursor)
            } catch {
                logger.error("the journal reader's output is broken; starting it again", metadata: ["error": "\(error)"])
                take(&lastEntry, into: &pendingCursor)
                guard deliver(&pendingCursor) else { return .givenUp }
                process.terminate()
                readerEnded()
                return .drained
            }
        }
        guard deliver(&pendingCursor) else { return .givenUp }
        return taken >= budgetBytes ? .more : .drained
    }

    /// A journal record is named by its entry's cursor (FNV-1a): the same entry read again after a
    /// crash gets the same origin, so a receiver that deduplicates by it (Elasticsearch's `_id`)
    /// keeps one copy.
    static func origins(_ cursor: UnsafeRawBufferPointer) -> OriginCounter {
        OriginCounter(base: FileIdentity.fnv1a(cursor), readHead: nil)
    }

    /// The last entry taken so far becomes the cursor a delivery makes current.
    private func take(_ entry: inout (UnsafeRawBufferPointer, UInt64)?, into pending: inout (String, UInt64)?) {
        guard let (cursor, realtime) = entry else { return }
        pending = (String(decoding: cursor, as: UTF8.self), realtime)
        entry = nil
    }

    private func deliver(_ pending: inout (String, UInt64)?) -> Bool {
        guard consumer.deliver() else { return false }
        if let (cursor, realtime) = pending { (self.cursor, realtimeUsec) = (cursor, realtime) }
        pending = nil
        return true
    }

    private func readerEnded() {
        guard let process else { return }
        self.process = nil
        buffer.reset()
        counters.journalOpen.store(false, ordering: .relaxed)
        let status = process.reap()
        guard !stopping else { return }
        counters.add(counters.journalReaderRestarts, 1)
        let wait = backoff.next()
        restartAtMs = clock.monotonicMs() + wait
        logger.error(
            "the journal reader ended; starting it again from the last entry taken",
            metadata: ["status": "\(status)", "cursor": "\(cursor ?? "")", "restart_in_ms": "\(wait)"])
    }

    /// The cursor every sink acknowledged, as the checkpoint now holds it: reported on `/health`.
    package func checkpointed(cursor: String?, realtimeUsec: UInt64) {
        counters.journalCursor.withLock { $0 = cursor ?? "" }
        counters.journalCheckpointRealtimeUsec.store(Int(truncatingIfNeeded: realtimeUsec), ordering: .relaxed)
    }

    /// The last delivered entry's realtime, saved with its cursor.
    package var position: (cursor: String?, realtimeUsec: UInt64) { (cursor, realtimeUsec) }

    /// Stops the reader; what it had not sent is read again from the checkpoint's cursor next time.
    package func stop() {
        stopping = true
        guard let process else { return }
        self.process = nil
        process.terminate()
        _ = process.reap()
        counters.journalOpen.store(false, ordering: .relaxed)
    }
}

/// The reader's frames as they arrive: read into one buffer that grows to the largest frame.
final class FrameBuffer {
    private var storage: UnsafeMutableRawPointer
    private var capacity = 1 << 20
    private var start = 0
    private var end = 0

    init() { storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16) }
    deinit { storage.deallocate() }

    /// Bytes read, 0 at the end of the pipe, nil when it is empty for now.
    func read(from descriptor: Int32) -> Int? {
        if start == end { (start, end) = (0, 0) }
        if end == capacity {
            if start > 0 {
                memmove(storage, storage + start, end - start)
                (start, end) = (0, end - start)
            } else {
                let larger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
                larger.copyMemory(from: storage, byteCount: end)
                storage.deallocate()
                (storage, capacity) = (larger, capacity * 2)
            }
        }
        while true {
            let count = Glibc.read(descriptor, storage + end, capacity - end)
            if count >= 0 {
                end += count
                return count
            }
            if errno == EINTR { continue }
            // EAGAIN: empty for now; anything else is taken as the end (the reader is restarted).
            return errno == EAGAIN ? nil : 0
        }
    }

    /// The next whole frame; an entry's record stays valid until the next `read`.
    func nextFrame() throws(JournalFrameError) -> JournalFrame.Decoded? {
        guard let (frame, length) = try JournalFrame.decode(UnsafeRawBufferPointer(start: storage + start, count: end - start)) else { return nil }
        start += length
        return frame
    }

    func reset() { (start, end) = (0, 0) }
}
