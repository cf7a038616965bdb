import Glibc
import SystemSupport

/// A sink's flush that can run on another thread: an fsync of a duplicate of the sink's descriptor, so
/// the reading loop goes on writing (and the sink may rotate or reopen its file) while the checkpoint
/// thread waits for the disk. The duplicate shares the open file, so syncing it syncs what the sink wrote.
package final class SinkSync: @unchecked Sendable {  // used by one thread at a time: made, handed over, run
    private let descriptor: Int32
    /// The sink's name, for the failure's message.
    package let sink: String

    /// nil when the descriptor cannot be duplicated (EMFILE): the caller syncs in place instead.
    init?(duplicating descriptor: Int32, sink: String) {
        let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { return nil }
        self.descriptor = copy
        self.sink = sink
    }

    deinit { FileIO.close(descriptor) }

    package func run() throws(SinkFailure) { try Self.fsync(descriptor, accepted: 0) }

    /// After a failed fsync Linux may have dropped the dirty pages and marks them clean, so a second
    /// fsync "succeeds" with the data gone: any failure is fatal, never retried.
    static func fsync(_ descriptor: Int32, accepted: Int) throws(SinkFailure) {
        do {
            try FileIO.fsync(descriptor)
        } catch  where error.errno == EINVAL || error.errno == EROFS || error.errno == ENOTSUP {
            // A pipe or a device cannot be synced: there is nothing more to make durable.
        } catch {
            throw SinkFailure(accepted: accepted, reason: "\(error)", isFatal: true)
        }
    }
}
