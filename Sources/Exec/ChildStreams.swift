import Configuration
import Glibc
import Multiline
import Records
import SystemSupport
import Telemetry

/// The child's stdout and stderr pipes: read into the file server's shared buffer and handed to the
/// pipeline line by line, each line under its stream. Nothing is buffered beyond one batch: while a
/// sink stalls, delivery blocks, the pipes fill, and the child waits in its own `write()`.
package final class ChildStreams {
    final class Pipe {
        let stream: ChildStream
        var descriptor: Int32?
        let splitter: LineSplitter
        let format: InputFormat
        /// Joins its lines into records when its stream has `multiline`.
        let joiner: MultilineJoiner?
        let parser: LineParser?
        /// When it last gave bytes: a pending record goes once it has been quiet for the timeout.
        var lastBytesMs: Int64 = 0
        /// A pipe is never read again, so its records are named by when it was opened and their
        /// offset in it: unique, and all a receiver's deduplication needs.
        let origins: OriginCounter

        init(
            stream: ChildStream, descriptor: Int32, splitter: LineSplitter, format: InputFormat, joiner: MultilineJoiner?, parser: LineParser?
        ) {
            self.stream = stream
            self.descriptor = descriptor
            self.splitter = splitter
            self.format = format
            self.joiner = joiner
            self.parser = parser
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let opened = UInt64(truncatingIfNeeded: now.tv_sec) &* 1_000_000_000 &+ UInt64(truncatingIfNeeded: now.tv_nsec)
            let which = UInt64(truncatingIfNeeded: getpid()) << 1 | (stream == .stdout ? 0 : 1)
            origins = OriginCounter(base: OriginCounter.mix(opened, which), readHead: nil)
        }
    }

    package enum Outcome: Equatable {
        /// Every pipe is empty for now (or at its end).
        case drained
        /// The budget ran out with more to read.
        case more
        /// Delivery was given up (the drain deadline passed).
        case givenUp
    }

    private let consumer: any LineConsumer
    private let counters: Counters
    private let buffer: ReadBuffer
    private let maxLineBytes: Int
    private let format: InputFormat
    private let settings: [ChildStream: SourceSettings]
    /// Open pipes; a restarted child's pipes join those of its predecessor until these reach their end
    /// (a grandchild may still hold them).
    private(set) var pipes: [Pipe] = []
    /// Bytes the last `read` took from the pipes.
    private(set) var lastReadBytes = 0
    /// Bytes read per call before the loop gets its turn (signals, checkpoint, files).
    static let budgetBytes = 8 << 20

    /// `settings`: `exec.stdout` and `exec.stderr`; a stream without them is in `format`, a line a record.
    package init(
        consumer: any LineConsumer, counters: Counters, buffer: ReadBuffer, maxLineBytes: Int, format: InputFormat,
        settings: [ChildStream: SourceSettings] = [:]
    ) {
        self.consumer = consumer
        self.counters = counters
        self.buffer = buffer
        self.maxLineBytes = maxLineBytes
        self.format = format
        self.settings = settings
    }

    func add(stdout: Int32, stderr: Int32) {
        for (stream, fd) in [(ChildStream.stdout, stdout), (.stderr, stderr)] {
            let own = settings[stream]
            // The pattern compiled when the configuration was loaded, so it compiles again here.
            let joiner = own?.multiline.flatMap { try? MultilineJoiner($0, maxLineBytes: maxLineBytes) }
            pipes.append(
                Pipe(
                    stream: stream, descriptor: fd, splitter: LineSplitter(maxLineBytes: maxLineBytes, sharing: buffer),
                    format: own?.format ?? format, joiner: joiner, parser: own?.parse.flatMap { try? LineParser($0) }))
        }
    }

    package var descriptors: [Int32] { pipes.compactMap(\.descriptor) }
    package var allClosed: Bool { pipes.isEmpty }

    /// Reads what the pipes hold, a batch at a time, up to about `budgetBytes`; a pipe at its end
    /// ships its last line (complete: nothing more can be written to it) and is closed. A pipe whose
    /// read came back short was emptied and is not read again in this call: a child that writes line
    /// by line is then read in the slices the loop lets grow (`coalesceMs`), not a line per read.
    package func read(budgetBytes: Int = budgetBytes) throws(SystemError) -> Outcome {
        var batched = 0
        lastReadBytes = 0
        // Also when delivery is given up: a pipe closed at its end is never polled or counted open.
        defer { pipes.removeAll { $0.descriptor == nil } }
        var full = pipes
        while !full.isEmpty {
            var stillFull: [Pipe] = []
            for pipe in full {
                guard let fd = pipe.descriptor else { continue }
                consumer.begin(.stream(pipe.stream), format: pipe.format, parser: pipe.parser, origins: pipe.origins)
                var emptied = false
                // A few reads per pipe and turn, so a busy stdout does not starve stderr.
                for _ in 0..<4 {
                    let (count, room) = try pipe.splitter.readAvailable(from: fd)
                    guard let count else {
                        emptied = true
                        break
                    }
                    if count == 0 {
                        // Nothing more can be written to it: its last line is complete, its record done.
                        if let joiner = pipe.joiner {
                            pipe.splitter.takePartial { line in joiner.take(line) { consumer.consume($0, partial: false) } }
                            joiner.flush { consumer.consume($0, partial: false) }
                            joiner.publish(to: counters)
                        } else {
                            pipe.splitter.takePartial { consumer.consume($0, partial: false) }
                        }
                        close(fd)
                        pipe.descriptor = nil
                        emptied = true
                        break
                    }
                    if let joiner = pipe.joiner {
                        joiner.takeLines(from: pipe.splitter, into: consumer, read: count, counters: counters)
                    } else {
                        consumer.takeLines(from: pipe.splitter, read: count, counters: counters)
                    }
                    pipe.lastBytesMs = MonotonicClock.milliseconds()
                    batched += count
                    lastReadBytes += count
                    if batched >= RecordBatch.inputBytes {
                        guard consumer.deliver() else { return .givenUp }
                        batched = 0
                    }
                    if count < room {
                        emptied = true
                        break
                    }
                }
                if !emptied { stillFull.append(pipe) }
            }
            full = stillFull
            if lastReadBytes >= budgetBytes { break }
        }
        guard consumer.deliver() else { return .givenUp }
        return full.isEmpty ? .drained : .more
    }

    /// Whether the last read only found a trickle: the loop then lets the pipes fill for
    /// `coalesceMs` before it reads them again, so a child writing a line per `write()` costs a
    /// wake-up every 2 ms, not one per line (the line waits at most that long).
    package var trickled: Bool { lastReadBytes > 0 && lastReadBytes < Self.coalesceBytes }
    package static let coalesceMs = 2
    static let coalesceBytes = 64 << 10

    /// At the end of the drain: pipes still open (held by a descendant) are closed, and a line they
    /// had begun is shipped with `"partial":true`.
    package func closeAll() -> Bool {
        for pipe in pipes {
            consumer.begin(.stream(pipe.stream), format: pipe.format, parser: pipe.parser, origins: pipe.origins)
            if pipe.splitter.pendingBytes > 0 {
                if let joiner = pipe.joiner {
                    pipe.splitter.takePartial { line in joiner.take(line) { consumer.consume($0, partial: true) } }
                } else {
                    pipe.splitter.takePartial { consumer.consume($0, partial: true) }
                }
                counters.add(counters.partialLines, 1)
            }
            pipe.joiner?.flush { consumer.consume($0, partial: false) }
            pipe.joiner?.publish(to: counters)
            if let fd = pipe.descriptor { close(fd) }
            pipe.descriptor = nil
        }
        pipes.removeAll()
        return consumer.deliver()
    }

    /// Ships the multiline records of pipes that have given nothing for their timeout, and with no
    /// line begun; false when delivery was given up.
    package func shipQuietRecords() -> Bool {
        let now = MonotonicClock.milliseconds()
        var shipped = false
        for pipe in pipes where pipe.splitter.pendingBytes == 0 {
            guard let joiner = pipe.joiner, joiner.hasPending, now - pipe.lastBytesMs >= joiner.timeoutMs else { continue }
            consumer.begin(.stream(pipe.stream), format: pipe.format, parser: pipe.parser, origins: pipe.origins)
            joiner.flush { consumer.consume($0, partial: false) }
            joiner.publish(to: counters)
            shipped = true
        }
        return !shipped || consumer.deliver()
    }

    /// Monotonic ms at which the first pending record of a pipe has been quiet for its timeout.
    package var nextQuietRecordMs: Int64? {
        pipes.compactMap { pipe in pipe.joiner.flatMap { $0.hasPending ? pipe.lastBytesMs + $0.timeoutMs : nil } }.min()
    }
}
