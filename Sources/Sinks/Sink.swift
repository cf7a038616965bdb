import Glibc
import Records
import SystemSupport

/// Where records go. Like swift-log's `LogHandler`, a handful of members is the whole extension point:
/// a new sink is one new file, chosen at start-up from the configuration.
package protocol Sink: AnyObject {
    var name: String { get }
    /// Starts what the sink runs on its own (an HTTP sink's threads), before the first write. The
    /// daemon drives the rest of the life: writes, `drain` at the end, then `close`, which stops and
    /// joins whatever `start` started.
    func start() throws(SinkFailure)
    /// Writes `batch.bytes[offset...]`. On failure, `SinkFailure.accepted` says how far the batch got, so
    /// a retry resumes exactly there: no record is lost, repeated or split.
    func write(_ batch: RecordBatch, from offset: Int) throws(SinkFailure)
    /// Makes what was written durable (called before the checkpoint moves past it).
    func flush() throws(SinkFailure)
    /// `flush` for the checkpoint thread: what must happen on the reading thread happens now, and the
    /// wait for the disk, if any, is returned to run there.
    func syncJob() throws(SinkFailure) -> SinkSync?
    /// Reopens output files (SIGHUP, after an external logrotate).
    func reopen()
    func close()
    /// Bytes of the batches written so far that the sink holds but its receiver has not acknowledged
    /// yet (a sink that sends in batches of its own, later). The checkpoint moves only past what every
    /// sink acknowledged, so it follows the slowest one.
    var unacknowledgedBytes: Int { get }
    /// Hands over everything written and waits until it is acknowledged (shutdown, the end of exec mode).
    func drain() throws(SinkFailure)
    /// True for a sink that may still be writing the last batch on a thread of its own when `write`
    /// returns (`FileSink`): the pipeline then fills a second batch meanwhile, so neither is copied.
    var writesBehind: Bool { get }
    /// Waits for a write still running on the sink's own thread, and finishes what it left; its failure
    /// is thrown (and retried like a write's). The reading loop calls it before it sleeps.
    func settle() throws(SinkFailure)
    /// True for a sink that counts its records as written itself, when they are acknowledged.
    var countsOwnRecords: Bool { get }
    /// True for a sink that names records by their origin (`RecordBatch.origins`).
    var namesRecords: Bool { get }
    /// True for a sink that takes records apart into their members (`RecordBatch.members`).
    var readsMembers: Bool { get }
}

extension Sink {
    package func start() throws(SinkFailure) {}
    package func flush() throws(SinkFailure) {}
    package func syncJob() throws(SinkFailure) -> SinkSync? {
        try flush()
        return nil
    }
    package func reopen() {}
    package func close() {}
    package var unacknowledgedBytes: Int { 0 }
    package func drain() throws(SinkFailure) { try flush() }
    package var writesBehind: Bool { false }
    package func settle() throws(SinkFailure) {}
    package var countsOwnRecords: Bool { false }
    package var namesRecords: Bool { false }
    package var readsMembers: Bool { false }
}

package struct SinkFailure: Error, CustomStringConvertible, Sendable {
    /// Byte offset in the batch up to which the sink accepted the records.
    package var accepted: Int
    package var reason: String
    /// Retrying cannot help and what was written may be gone (fsync failed, stdout's reader left):
    /// the daemon exits 1 without moving the checkpoint, so the restart replays.
    package var isFatal: Bool

    package init(accepted: Int, reason: String, isFatal: Bool = false) {
        self.accepted = accepted
        self.reason = reason
        self.isFatal = isFatal
    }

    package var description: String { reason }
}

/// Writes to a descriptor and reports how far it got when it fails.
enum DescriptorWriter {
    static func write(_ fd: Int32, _ batch: RecordBatch, from start: Int, to end: Int) throws(SinkFailure) {
        var failure: SinkFailure?
        batch.bytes.withUnsafeBytes { raw in
            var written = 0
            do throws(SystemError) {
                try FileIO.writeAll(fd, UnsafeRawBufferPointer(rebasing: raw[start..<end]), done: &written)
            } catch  where error.errno == EPIPE {
                failure = SinkFailure(accepted: start + written, reason: "the reader of the output is gone: \(error)", isFatal: true)
            } catch {
                failure = SinkFailure(accepted: start + written, reason: "\(error)")
            }
        }
        if let failure { throw failure }
    }
}
