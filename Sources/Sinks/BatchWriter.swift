import Records
import Synchronization
import Telemetry

/// A descriptor sink's writes (file, stdout): a large batch (a catch-up's) is written on a thread of
/// the sink's own (`WriteBehind`) while the reading thread encodes the next, so a catch-up takes the
/// longer of the two, not their sum; small batches, a follow's, are written at once, with no hand-over
/// added to their latency.
///
/// One batch is held at a time. Each call that follows first waits for its write and, if it failed,
/// writes what it left (`catchUp`): a failure is thrown and retried one call later, and the batch
/// counts as unacknowledged (the checkpoint stays behind it) until then. The sink's own state is used
/// by one thread at a time: the write-behind thread from a hand-over until `collect` has heard it is
/// done, the caller's otherwise. The sink passes its write to each call rather than keeping it here:
/// the closure holds the sink, which holds this.
final class BatchWriter {
    typealias Write = (RecordBatch, Int) throws(SinkFailure) -> Void
    /// A part of a batch: the batch and where its part starts.
    typealias Part = (batch: RecordBatch, offset: Int)

    /// Batches of at least this many bytes are written behind.
    static let behindBytes = 64 * 1024
    private let threadName: String
    /// Where the records written are counted, as they are written: a write behind ends after `write`
    /// returned. nil: the fan-out counts them when `write` returns (tests).
    let counters: SinkCounters?
    /// Started at the first large batch; nil before, or when no thread could be started.
    private var behind: WriteBehind?
    private var behindStarted = false
    /// The batch handed to `behind` and where its write began, until `collect` hears how it went.
    private var inFlight: Part?
    /// What a write behind did not get out, written first by the next call.
    private var leftover: Part?

    /// `threadName`: the write-behind thread's (15 bytes at most).
    init(threadName: String, counters: SinkCounters?) {
        self.threadName = threadName
        self.counters = counters
    }

    /// Bytes handed over or left over, not yet known to be written.
    var unacknowledgedBytes: Int {
        (inFlight.map { $0.batch.bytes.count - $0.offset } ?? 0) + (leftover.map { $0.batch.bytes.count - $0.offset } ?? 0)
    }

    /// `batch.bytes[start...]` through `writeNow`: behind when it is large, at once otherwise; either way
    /// after what was handed over or left over before.
    func write(_ batch: RecordBatch, from start: Int, _ writeNow: @escaping Write) throws(SinkFailure) {
        try catchUp(accepted: start, writeNow)
        if batch.bytes.count - start >= Self.behindBytes, let behind = startedBehind() {
            inFlight = (batch, start)
            behind.hand {
                do throws(SinkFailure) {
                    try self.counted(batch, from: start, writeNow)
                    return nil
                } catch {
                    return error
                }
            }
            return
        }
        try counted(batch, from: start, writeNow)
    }

    /// Waits for the write behind, if one is running; what it did not write becomes the leftover.
    func collect() {
        guard let inFlight else { return }
        if let failure = behind?.finish() { leftover = (inFlight.batch, failure.accepted) }
        self.inFlight = nil
    }

    /// `collect`, then the leftover written; its failure is thrown with `accepted`, the caller's own
    /// progress, and the leftover is tried again by the next call.
    func catchUp(accepted: Int, _ writeNow: Write) throws(SinkFailure) {
        collect()
        guard let leftover else { return }
        do {
            try counted(leftover.batch, from: leftover.offset, writeNow)
        } catch {
            self.leftover = (leftover.batch, error.accepted)
            throw SinkFailure(accepted: accepted, reason: error.reason, isFatal: error.isFatal)
        }
        self.leftover = nil
    }

    /// `collect`, then the thread joined. What is still left over is not written: the checkpoint never
    /// claimed it.
    func stop() {
        collect()
        behind?.stop()
        behind = nil
    }

    private func startedBehind() -> WriteBehind? {
        if !behindStarted {
            behindStarted = true
            behind = WriteBehind.start(name: threadName)
        }
        return behind
    }

    /// `writeNow`, counting the records that end within what it wrote, each once (a record cut short and
    /// written whole again, after a reopen, ends after `start`).
    private func counted(_ batch: RecordBatch, from start: Int, _ writeNow: Write) throws(SinkFailure) {
        var reached = batch.bytes.count
        defer {
            counters?.recordsWritten.wrappingAdd(
                max(0, batch.recordsEnding(atOrBefore: reached) - batch.recordsEnding(atOrBefore: start)), ordering: .relaxed)
        }
        do {
            try writeNow(batch, start)
        } catch {
            reached = error.accepted
            throw error
        }
    }
}
