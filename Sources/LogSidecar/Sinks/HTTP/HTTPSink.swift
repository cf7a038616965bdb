import Logging
import Synchronization

/// Posts records to an HTTP receiver (design.md, "HTTP sinks"). The reading loop fills one batch
/// while a sender thread has at most one other in flight; `write` blocks while both are taken, so
/// memory stays two batches however long the receiver is away. Records count as written, and the
/// checkpoint moves past them, only once the receiver acknowledged them (`unacknowledgedBytes`).
final class HTTPSink: Sink, @unchecked Sendable {
    let name: String
    private let maxBytes: Int
    private let timeoutMs: Int64
    private let delivery: HTTPDelivery
    /// True once the reading loop must stop waiting for room (the shutdown deadline passed).
    private let shouldGiveUp: () -> Bool
    private let monitor = Monitor()
    // Guarded by `monitor`.
    private var filling = RecordBatch()
    /// The batch bytes `filling` stands for (what the fanout wrote), and when its first record came.
    private var fillingStreamBytes = 0
    private var fillingSinceMs: Int64 = 0
    private var inFlightStreamBytes = 0
    private var draining = false
    private var senderStarted = false
    /// Where `unacknowledgedBytes` is shown (`/health`, `/metrics`).
    private let metrics: HTTPCounters?

    init(name: String, config: HTTPSinkConfig, deadLetterPath: String, shape: RecordShape, counters: SinkCounters, logger: Logger,
         shouldGiveUp: @escaping () -> Bool) throws(SinkFailure) {
        try HTTPConnection.load()
        self.name = name
        maxBytes = config.batchMaxBytes
        timeoutMs = Int64(config.batchTimeoutMs)
        delivery = HTTPDelivery(
            name: name, config: config, format: HTTPFormats.make(config, shape: shape), deadLetterPath: deadLetterPath, counters: counters,
            logger: logger)
        namesRecords = config.format == .elasticsearch
        metrics = counters.http
        self.shouldGiveUp = shouldGiveUp
    }

    var countsOwnRecords: Bool { true }
    let namesRecords: Bool

    var unacknowledgedBytes: Int { monitor.withLock { fillingStreamBytes + inFlightStreamBytes } }

    func write(_ batch: RecordBatch, from offset: Int) throws(SinkFailure) {
        let first = batch.recordsEnding(atOrBefore: offset)
        guard first < batch.count else { return }
        let start = first == 0 ? 0 : batch.recordEnds[first - 1]
        let accepted: Bool = monitor.withLock {
            while filling.bytes.count >= maxBytes {
                if shouldGiveUp() { return false }
                monitor.wait(milliseconds: 100)
            }
            let base = filling.bytes.count - start
            filling.bytes.append(contentsOf: batch.bytes[start...])
            filling.recordEnds.append(contentsOf: batch.recordEnds[first...].lazy.map { $0 + base })
            if batch.origins.count == batch.count { filling.origins.append(contentsOf: batch.origins[first...]) }
            fillingStreamBytes += batch.bytes.count - start
            if fillingSinceMs == 0 { fillingSinceMs = MonotonicClock.milliseconds() }
            publishHeld()
            monitor.broadcast()
            return true
        }
        guard accepted else { throw SinkFailure(accepted: offset, reason: "sink \(name): the receiver did not take the records before the deadline") }
        startSender()
    }

    /// Sends what is held and waits for the acknowledgement (shutdown, the end of exec mode).
    func drain() throws(SinkFailure) {
        let done: Bool = monitor.withLock {
            draining = true
            monitor.broadcast()
            defer { draining = false }
            while !filling.isEmpty || inFlightStreamBytes > 0 {
                if shouldGiveUp() { return false }
                monitor.wait(milliseconds: 100)
            }
            return true
        }
        if !done { throw SinkFailure(accepted: 0, reason: "sink \(name): records were still unacknowledged at the deadline") }
    }

    /// Under `monitor`.
    private func publishHeld() { metrics?.unacknowledgedBytes.store(fillingStreamBytes + inFlightStreamBytes, ordering: .relaxed) }

    private func startSender() {
        let start: Bool = monitor.withLock {
            defer { senderStarted = true }
            return !senderStarted
        }
        guard start else { return }
        do { try PosixThread.start { [self] in runSender() } } catch {
            // Without a thread of its own the sink cannot send; the records stay unacknowledged and the
            // checkpoint where it is, which the drain at shutdown reports.
            monitor.withLock { senderStarted = false }
        }
    }

    private func runSender() {
        var batch = RecordBatch()
        while true {
            monitor.withLock {
                while true {
                    if !filling.isEmpty {
                        let age = MonotonicClock.milliseconds() - fillingSinceMs
                        if filling.bytes.count >= maxBytes || draining || age >= timeoutMs { break }
                        monitor.wait(milliseconds: timeoutMs - age)
                    } else {
                        monitor.wait(milliseconds: 60_000)
                    }
                }
                swap(&batch, &filling)
                inFlightStreamBytes = fillingStreamBytes
                fillingStreamBytes = 0
                fillingSinceMs = 0
                monitor.broadcast()
            }
            delivery.deliver(batch)
            batch.removeAll()
            monitor.withLock {
                inFlightStreamBytes = 0
                publishHeld()
                monitor.broadcast()
            }
        }
    }
}

extension HTTPSinkConfig: SinkMaking {
    func makeSink(name: String, context: SinkContext) throws(SinkFailure) -> any Sink {
        try HTTPSink(
            name: name, config: self, deadLetterPath: deadLetterPath(name: name, checkpointPath: context.checkpointPath), shape: context.shape,
            counters: context.counters, logger: context.logger, shouldGiveUp: context.shouldGiveUp)
    }

    /// `dead_letter_path`, or `dead-letter-<name>.jsonl` beside the checkpoint (or in the default
    /// checkpoint's directory when there is no checkpoint).
    func deadLetterPath(name: String, checkpointPath: String) -> String {
        if !deadLetterPath.isEmpty { return deadLetterPath }
        let checkpoint = checkpointPath.isEmpty ? InputConfig().checkpointPath : checkpointPath
        return Path.directory(of: checkpoint) + "/dead-letter-\(name).jsonl"
    }
}
