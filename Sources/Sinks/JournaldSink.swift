import Configuration
import Glibc
import Records
import SystemSupport

/// Sends each record to systemd-journald, one entry per record, with the fields the design maps:
/// MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and every other key upper-cased.
///
/// A batch counts as written only once journald has read all of it from its socket and is still the
/// same journald: one killed or restarted before reading its queue drops those entries without a word,
/// so then the batch is sent again from where this attempt began (a duplicate is acceptable, a loss not).
package final class JournaldSink: Sink {
    package let name: String
    private let mapper: JournaldFieldMapper
    private let socket: JournaldSocket
    /// How long journald may take to read a batch before it is sent again.
    private let readTimeoutMs: Int64

    package init(
        name: String, identifier: String, messageKey: String, levelKey: String,
        socketPath: String = "/run/systemd/journal/socket", readTimeoutMs: Int64 = 30_000
    ) {
        self.name = name
        mapper = JournaldFieldMapper(identifier: identifier, messageKey: messageKey, levelKey: levelKey)
        socket = JournaldSocket(path: socketPath)
        self.readTimeoutMs = readTimeoutMs
    }

    package func write(_ batch: RecordBatch, from offset: Int) throws(SinkFailure) {
        guard let journald = socket.socketFile() else {
            throw SinkFailure(accepted: offset, reason: "no journald socket at \(socket.path); is systemd-journald running?")
        }
        var failure: SystemError?
        batch.forEachRecord(from: batch.recordsEnding(atOrBefore: offset)) { _, record in
            guard failure == nil else { return }
            failure = mapper.entry(of: record).bytes.withUnsafeBytes { raw in
                do throws(SystemError) { try socket.send(raw) } catch { return error }
                return nil
            }
        }
        // What this attempt sent before the failure may sit unread in a dead journald's queue.
        if let failure { throw SinkFailure(accepted: offset, reason: "\(failure)") }
        try waitUntilRead(by: journald, accepted: offset)
    }

    package func close() { socket.close() }

    private func waitUntilRead(by journald: FileStatus, accepted offset: Int) throws(SinkFailure) {
        let deadline = MonotonicClock.milliseconds() + readTimeoutMs
        while socket.unreadBytes() > 0 {
            guard MonotonicClock.milliseconds() < deadline else {
                throw SinkFailure(accepted: offset, reason: "journald has not read the batch in \(readTimeoutMs) ms; sending it again")
            }
            if !socket.isListening() { break }
            _ = poll(nil, 0, 1)
        }
        // A dead journald's queue is freed, which also empties ours: tell that apart from a read.
        guard socket.socketFile() == journald, socket.isListening() else {
            throw SinkFailure(accepted: offset, reason: "journald went away before it read the whole batch; sending it again")
        }
    }
}

extension JournaldSinkConfig: SinkMaking {
    package func makeSink(name: String, context: SinkContext) -> any Sink {
        JournaldSink(name: name, identifier: identifier, messageKey: messageKey, levelKey: levelKey)
    }
}
