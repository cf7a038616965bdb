import Logging
import Records
import Synchronization
import SystemSupport
import Telemetry

/// Delivers each batch to every sink. A failing sink is retried with capped exponential backoff while
/// the reading loop waits: the file on disk is the buffer, so memory stays one batch however long the
/// outage, and a batch counts as delivered only once every sink has accepted all of it.
package final class SinkFanout {
    let sinks: [any Sink]
    let counters: [SinkCounters]
    let logger: Logger
    /// Waits up to the given ms, returning early when the daemon is told to stop.
    let pause: (Int) -> Void
    /// True once delivery must be given up (the shutdown deadline passed).
    let shouldGiveUp: () -> Bool
    /// True once (SIGHUP) when the outputs should be reopened: also while a failing sink is retried,
    /// since reopening may be what it needs (its file was moved away).
    let reopenRequested: () -> Bool
    private var progress: [Int]
    /// Per sink, whether the failure on its counters is one this fan-out saw: only that one is over when a
    /// write succeeds. A sink that sends on threads of its own (HTTP) reports its receiver's failures
    /// itself, and taking a batch into its buffer says nothing about them.
    private var failing: [Bool]
    /// Bytes of every batch delivered so far: the position the checkpoint's snapshots are taken at.
    package private(set) var writtenBytes = 0
    /// The failure that ended delivery for good; the daemon exits 1 without a new checkpoint.
    package private(set) var fatalFailure: SinkFailure?
    static let initialBackoffMs: Int64 = 50
    static let maximumBackoffMs: Int64 = 5000
    /// The time a failure's start is stamped with.
    private let clock: any TimeSource

    package init(
        sinks: [any Sink], counters: [SinkCounters], logger: Logger, pause: @escaping (Int) -> Void,
        shouldGiveUp: @escaping () -> Bool, reopenRequested: @escaping () -> Bool = { false }, clock: any TimeSource = SystemClock.shared
    ) {
        self.clock = clock
        self.sinks = sinks
        self.counters = counters
        self.logger = logger
        self.pause = pause
        self.shouldGiveUp = shouldGiveUp
        self.reopenRequested = reopenRequested
        progress = Array(repeating: 0, count: sinks.count)
        failing = Array(repeating: false, count: sinks.count)
    }

    /// Returns true once every sink has the whole batch, false when given up.
    package func deliver(_ batch: RecordBatch) -> Bool {
        if fatalFailure != nil { return false }
        for index in progress.indices { progress[index] = 0 }
        let delivered = retrying { index throws(SinkFailure) in
            let before = progress[index]
            defer {
                if !sinks[index].countsOwnRecords {
                    let accepted = batch.recordsEnding(atOrBefore: progress[index]) - batch.recordsEnding(atOrBefore: before)
                    counters[index].recordsWritten.wrappingAdd(accepted, ordering: .relaxed)
                }
            }
            do throws(SinkFailure) {
                try sinks[index].write(batch, from: before)
                progress[index] = batch.bytes.count
            } catch {
                progress[index] = error.accepted
                throw error
            }
        } isDone: { index in
            progress[index] >= batch.bytes.count
        }
        if delivered { writtenBytes += batch.bytes.count }
        return delivered
    }

    /// How far into `writtenBytes` every sink's receiver has acknowledged: the slowest sink's position.
    package var acknowledgedBytes: Int {
        writtenBytes - sinks.reduce(0) { max($0, $1.unacknowledgedBytes) }
    }

    /// Makes every sink's output durable, the checkpoint thread's part returned as syncs to run there
    /// (the checkpoint is written only after they succeed); nil when given up.
    package func syncJobs() -> [SinkSync]? {
        var jobs: [SinkSync] = []
        return everySink { sink throws(SinkFailure) in if let job = try sink.syncJob() { jobs.append(job) } } ? jobs : nil
    }

    /// A sync run on the checkpoint thread failed: like a failed flush, that ends delivery for good.
    package func syncFailed(_ failure: SinkFailure, sink: String) {
        if let index = counters.firstIndex(where: { $0.name == sink }) { failed(index, failure) }
        fatalFailure = SinkFailure(accepted: 0, reason: "sink \(sink): \(failure.reason)", isFatal: true)
    }

    /// Hands everything over and waits for every acknowledgement (shutdown, the end of exec mode).
    package func drain() -> Bool { everySink { sink throws(SinkFailure) in try sink.drain() } }

    /// Some sink may hold the last batch after `deliver` returns (`Sink.writesBehind`).
    package var writesBehind: Bool { sinks.contains { $0.writesBehind } }

    /// Waits for the writes still running on sinks' own threads, a failed one retried with backoff
    /// like a write; false when given up. Nothing to wait for costs no allocation: the quiet loop
    /// calls it every time before it sleeps.
    package func settle() -> Bool {
        guard sinks.contains(where: { $0.writesBehind && $0.unacknowledgedBytes > 0 }) else { return true }
        return everySink { sink throws(SinkFailure) in try sink.settle() }
    }

    /// `operation` on every sink, each retried with backoff until it succeeds; false when given up.
    private func everySink(_ operation: (any Sink) throws(SinkFailure) -> Void) -> Bool {
        if fatalFailure != nil { return false }
        var done = Array(repeating: false, count: sinks.count)
        return retrying { index throws(SinkFailure) in
            try operation(sinks[index])
            done[index] = true
        } isDone: {
            done[$0]
        }
    }

    /// Starts every sink; the first that cannot start stops start-up.
    package func start() throws(SinkFailure) {
        for (sink, counters) in zip(sinks, counters) {
            do { try sink.start() } catch { throw SinkFailure(accepted: 0, reason: "sink \(counters.name): \(error.reason)") }
        }
    }

    package func reopen() { for sink in sinks { sink.reopen() } }

    package func close() { for sink in sinks { sink.close() } }

    private func retrying(_ attempt: (Int) throws(SinkFailure) -> Void, isDone: (Int) -> Bool) -> Bool {
        var backoff = Backoff(firstMs: Self.initialBackoffMs, maximumMs: Self.maximumBackoffMs, jitter: false)
        while true {
            var allDone = true
            for index in sinks.indices where !isDone(index) {
                do {
                    try attempt(index)
                    recovered(index)
                } catch {
                    failed(index, error)
                    if error.isFatal {
                        fatalFailure = SinkFailure(accepted: 0, reason: "sink \(counters[index].name): \(error.reason)", isFatal: true)
                        return false
                    }
                    allDone = false
                }
            }
            if allDone { return true }
            if shouldGiveUp() { return false }
            pause(Int(backoff.next()))
            if reopenRequested() {
                logger.info("SIGHUP: reopening sink files")
                reopen()
            }
        }
    }

    private func failed(_ index: Int, _ failure: SinkFailure) {
        let sink = counters[index]
        sink.errors.wrappingAdd(1, ordering: .relaxed)
        sink.lastError.withLock { $0 = failure.reason }
        if sink.failingSinceMs.load(ordering: .relaxed) == 0 {
            failing[index] = true
            sink.failingSinceMs.store(clock.monotonicMs(), ordering: .relaxed)
            // A fatal failure is not retried; the reading loop says what happens instead.
            if failure.isFatal { return }
            logger.error("sink failed; retrying with backoff, reading paused", metadata: ["sink": "\(sink.name)", "error": "\(failure.reason)"])
        }
    }

    private func recovered(_ index: Int) {
        let sink = counters[index]
        if failing[index] {
            failing[index] = false
            sink.failingSinceMs.store(0, ordering: .relaxed)
            logger.notice("sink recovered", metadata: ["sink": "\(sink.name)"])
        }
    }
}
