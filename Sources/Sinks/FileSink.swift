import Configuration
import Glibc
import Records
import SystemSupport
import Telemetry

/// Appends records to a file, rotating it itself at `max_bytes` (on record boundaries, so no record is
/// split across files) and keeping `max_files` rotated files: `path.1` is the newest. A catch-up's
/// large batches are written behind, on the thread `file-sink` (`BatchWriter`).
package final class FileSink: Sink {
    package let name: String
    private let path: String
    private let maxBytes: Int
    private let maxFiles: Int
    private var descriptor: Int32 = -1
    private var size = 0
    /// A failed fsync while closing for SIGHUP, reported by the next write or flush.
    private var closeFailure: SinkFailure?
    /// Writes at once or behind, and counts the records written.
    private let writer: BatchWriter

    /// `counters`: where the records written are counted, as they reach the file; nil: the fan-out
    /// counts them (tests).
    package init(name: String, path: String, maxBytes: Int, maxFiles: Int, counters: SinkCounters? = nil) {
        writer = BatchWriter(threadName: "file-sink", counters: counters)
        self.name = name
        self.path = path
        self.maxBytes = maxBytes
        self.maxFiles = maxFiles
    }

    deinit { close() }

    package var writesBehind: Bool { true }

    package var countsOwnRecords: Bool { writer.counters != nil }

    package var unacknowledgedBytes: Int { writer.unacknowledgedBytes }

    package func write(_ batch: RecordBatch, from start: Int) throws(SinkFailure) {
        if let closeFailure { throw closeFailure }
        try writer.write(batch, from: start, writeNow)
    }

    package func settle() throws(SinkFailure) {
        if let closeFailure { throw closeFailure }
        try writer.catchUp(accepted: 0, writeNow)
    }

    /// Writes `batch.bytes[start...]` on the calling thread.
    private func writeNow(_ batch: RecordBatch, from start: Int) throws(SinkFailure) {
        let reopened = descriptor < 0
        try openIfNeeded(accepted: start)
        var offset = start
        // A file opened since the last attempt (SIGHUP) does not hold the head of a record cut short
        // by a failed write: that record is written whole again, never as a tail on its own.
        if reopened, case let first = batch.recordsEnding(atOrBefore: offset), first < batch.count {
            offset = first > 0 ? batch.recordEnds[first - 1] : 0
        }
        let total = batch.bytes.count
        while offset < total {
            let first = batch.recordsEnding(atOrBefore: offset)
            let recordEnd = batch.recordEnds[first]
            // A retry that resumes inside a record finishes that record in the same file.
            let resumesInside = first > 0 ? offset != batch.recordEnds[first - 1] : offset != 0
            var end = recordEnd
            if !resumesInside {
                // As many whole records as fit; one record larger than max_bytes gets a file of its own.
                let room = maxBytes - size
                if recordEnd - offset > room && size > 0 {
                    try rotate(accepted: offset)
                    continue
                }
                let fitting = batch.recordsEnding(atOrBefore: offset + max(room, 0))
                if fitting > first { end = batch.recordEnds[fitting - 1] }
            }
            do {
                try DescriptorWriter.write(descriptor, batch, from: offset, to: end)
            } catch {
                size += error.accepted - offset
                throw error
            }
            size += end - offset
            offset = end
        }
    }

    package func flush() throws(SinkFailure) {
        if let closeFailure { throw closeFailure }
        try writer.catchUp(accepted: 0, writeNow)
        try sync(accepted: 0)
    }

    package func syncJob() throws(SinkFailure) -> SinkSync? {
        if let closeFailure { throw closeFailure }
        try writer.catchUp(accepted: 0, writeNow)
        guard descriptor >= 0 else { return nil }
        if let job = SinkSync(duplicating: descriptor, sink: name) { return job }
        try sync(accepted: 0)
        return nil
    }

    private func sync(accepted: Int) throws(SinkFailure) {
        guard descriptor >= 0 else { return }
        try SinkSync.fsync(descriptor, accepted: accepted)
    }

    /// A file is synced before it is closed: once renamed or reopened it is no longer ours to sync,
    /// and the checkpoint may already claim what it holds.
    package func reopen() {
        writer.collect()
        do { try sync(accepted: 0) } catch { closeFailure = error }
        closeDescriptor()
    }

    package func close() {
        writer.stop()
        closeDescriptor()
    }

    private func closeDescriptor() {
        if descriptor >= 0 { FileIO.close(descriptor) }
        descriptor = -1
    }

    private func openIfNeeded(accepted: Int) throws(SinkFailure) {
        guard descriptor < 0 else { return }
        do {
            try FileIO.makeDirectories(Path.directory(of: path))
            descriptor = try FileIO.open(path, flags: O_WRONLY | O_APPEND | O_CREAT)
            size = Int(try FileStatus.of(descriptor: descriptor).size)
            // A kill -9 in the middle of a write leaves a torn last line: it is ended here, so the
            // records that follow (the replay from the checkpoint) each start a line of their own.
            if size > 0 && !endsWithNewline() {
                let newline: StaticString = "\n"
                try FileIO.writeAll(descriptor, UnsafeRawBufferPointer(start: newline.utf8Start, count: 1))
                size += 1
            }
        } catch {
            closeDescriptor()
            throw SinkFailure(accepted: accepted, reason: "\(error)")
        }
    }

    /// Whether the file's last byte is a newline; a file that cannot be read back counts as whole.
    private func endsWithNewline() -> Bool {
        guard let reader = try? FileIO.open(path, flags: O_RDONLY) else { return true }
        defer { FileIO.close(reader) }
        var last: UInt8 = 0
        guard (try? FileIO.pread(reader, into: &last, count: 1, offset: Int64(size - 1))) == 1 else { return true }
        return last == UInt8(ascii: "\n")
    }

    /// `path.N-1` -> `path.N` ... `path` -> `path.1`, dropping what falls off the end.
    private func rotate(accepted: Int) throws(SinkFailure) {
        try sync(accepted: accepted)
        closeDescriptor()
        do {
            for index in stride(from: maxFiles - 1, through: 1, by: -1) {
                let older = "\(path).\(index)"
                if try FileStatus.at(older) != nil { try FileIO.rename(older, "\(path).\(index + 1)") }
            }
            try FileIO.rename(path, "\(path).1")
        } catch {
            throw SinkFailure(accepted: accepted, reason: "rotating \(path): \(error)")
        }
        try openIfNeeded(accepted: accepted)
    }
}

extension FileSinkConfig: SinkMaking {
    package func makeSink(name: String, context: SinkContext) -> any Sink {
        FileSink(name: name, path: path, maxBytes: maxBytes, maxFiles: maxFiles, counters: context.counters)
    }
}
