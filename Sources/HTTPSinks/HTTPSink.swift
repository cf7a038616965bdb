import Configuration
import Logging
import Records
import Sinks
import Synchronization
import SystemSupport
import Telemetry

/// Posts records to an HTTP receiver (docs/sinks.md). The reading loop fills one batch;
/// when it is due, writing threads take it and write its request bodies (two threads when a body
/// costs work, an encoding or gzip: a large batch then goes as two requests written at once), and a
/// sending thread posts the requests in order. At most two batches are on their way (one written
/// while the one before is posted) and `write` blocks while both are taken and the batch filling is
/// full, so memory stays three batches however long the receiver is away. Records count as
/// written, and the checkpoint moves past them, only once the receiver acknowledged them
/// (`unacknowledgedBytes`).
final class HTTPSink: Sink, @unchecked Sendable {
    let name: String
    private let maxBytes: Int
    private let timeoutMs: Int64
    /// One per writing thread (a format keeps scratch state, zlib a stream).
    private let writers: [RequestWriter]
    private let delivery: HTTPDelivery
    /// True once the reading loop must stop waiting for room (the shutdown deadline passed).
    private let shouldGiveUp: () -> Bool
    private let monitor = Monitor()
    // Guarded by `monitor`.
    private var filling = RecordBatch()
    /// The batch bytes `filling` stands for (what the fanout wrote), and when its first record came.
    private var fillingStreamBytes = 0
    private var fillingSinceMs: Int64 = 0
    /// The batches on their way, oldest first, and the bytes they stand for.
    private var inFlight: [PreparedBatch] = []
    private var inFlightStreamBytes = 0
    private var spare = [PreparedBatch(), PreparedBatch()]
    private var draining = false
    /// Set by `close`: the threads return.
    private var stopping = false
    /// The sending thread and the writing threads, started by `start`, joined by `close`.
    private var threads: [NamedThread] = []
    /// Where `unacknowledgedBytes` is shown (`/health`, `/metrics`).
    private let metrics: HTTPCounters?
    /// The time `batch_timeout_ms` is measured on.
    private let clock: any TimeSource

    init(
        name: String, config: HTTPSinkConfig, deadLetterPath: String, shape: RecordShape, counters: SinkCounters, logger: Logger,
        shouldGiveUp: @escaping () -> Bool, failureTimeoutMs: Int = HealthConfig().sinkFailureTimeoutMs,
        transport: HTTPTransportFactory = .system, clock: any TimeSource = SystemClock.shared
    ) throws(SinkFailure) {
        try transport.check(config.url)
        self.clock = clock
        self.name = name
        maxBytes = config.batchMaxBytes
        timeoutMs = Int64(config.batchTimeoutMs)
        let makeWriter = { () throws(SinkFailure) in
            RequestWriter(format: try HTTPFormats.make(config, shape: shape), compression: config.compression)
        }
        let writer = try makeWriter()
        writers = writer.doesWork ? [writer, try makeWriter()] : [writer]
        let format = try HTTPFormats.make(config, shape: shape)
        namesRecords = format.namesRecords
        readsMembers = format.readsMembers
        splitsBatches = writers.count > 1 && !format.keepsBatchesWhole
        delivery = HTTPDelivery(
            name: name, config: config, format: format, deadLetterPath: deadLetterPath, counters: counters,
            logger: logger, failureTimeoutMs: failureTimeoutMs, transport: transport, clock: clock)
        metrics = counters.http
        self.shouldGiveUp = shouldGiveUp
    }

    var countsOwnRecords: Bool { true }
    let namesRecords: Bool
    let readsMembers: Bool
    /// Whether a batch goes as two requests, one per writing thread (`PreparedBatch.requests`).
    private let splitsBatches: Bool

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
            filling.append(batch, from: first, members: readsMembers)
            fillingStreamBytes += batch.bytes.count - start
            publishHeld()
            // The writing threads look again only when the batch became due or started its timeout:
            // waking them for every read cost them a futex round trip each.
            if fillingSinceMs == 0 || filling.bytes.count >= maxBytes { monitor.broadcast() }
            if fillingSinceMs == 0 { fillingSinceMs = clock.monotonicMs() }
            return true
        }
        guard accepted else { throw SinkFailure(accepted: offset, reason: "sink \(name): the receiver did not take the records before the deadline") }
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

    /// Starts the sending thread and the writing threads.
    func start() throws(SinkFailure) {
        guard threads.isEmpty else { return }
        do {
            threads.append(try NamedThread.start(name: "http-send") { [self] in runSender() })
            for index in writers.indices { threads.append(try NamedThread.start(name: "http-write") { [self] in runWriter(writers[index]) }) }
        } catch {
            close()
            throw SinkFailure(accepted: 0, reason: "sink \(name): cannot start its threads: \(error)")
        }
    }

    /// Stops the threads and joins them. What was not acknowledged stays unacknowledged: `drain` comes
    /// first when it is to be sent.
    func close() {
        monitor.withLock {
            stopping = true
            monitor.broadcast()
        }
        delivery.stop()
        for thread in threads { thread.join() }
        threads.removeAll()
    }

    /// Writes request bodies: the next unwritten request of a batch on its way, else `filling` once
    /// it is due (full, old enough, or draining) and a batch is free to take it.
    private func runWriter(_ writer: RequestWriter) {
        while true {
            let next: (PreparedBatch, Int)? = monitor.withLock {
                while !stopping {
                    if let prepared = inFlight.first(where: \.hasUnclaimed) { return (prepared, prepared.claim()) }
                    if !filling.isEmpty, let taken = spare.last {
                        let age = clock.monotonicMs() - fillingSinceMs
                        if filling.bytes.count >= maxBytes || draining || age >= timeoutMs {
                            spare.removeLast()
                            let left = taken.take(&filling, streamBytes: fillingStreamBytes, maxBytes: maxBytes, split: splitsBatches)
                            inFlight.append(taken)
                            inFlightStreamBytes += fillingStreamBytes - left
                            // What did not fit is the next batch, as old as it was.
                            fillingStreamBytes = left
                            if left == 0 { fillingSinceMs = 0 }
                            monitor.broadcast()
                            continue
                        }
                        monitor.wait(milliseconds: timeoutMs - age)
                    } else {
                        monitor.wait(milliseconds: 60_000)
                    }
                }
                return nil
            }
            guard let (prepared, index) = next else { return }
            writer.write(prepared.batch, Array(prepared.requests[index]), into: prepared.bodies[index])
            // Counted when a body is first written; a split sent again is written again, not counted.
            if let metrics { metrics.timeParseErrors.wrappingAdd(prepared.bodies[index].timeParseErrors, ordering: .relaxed) }
            monitor.withLock {
                prepared.markWritten(index)
                monitor.broadcast()
            }
        }
    }

    /// Posts the requests in order, each once it is written.
    private func runSender() {
        while true {
            let next: (PreparedBatch, Int)? = monitor.withLock {
                while !stopping {
                    if let prepared = inFlight.first, let index = prepared.nextToPost { return (prepared, index) }
                    monitor.wait(milliseconds: 60_000)
                }
                return nil
            }
            guard let (prepared, index) = next,
                delivery.deliver(prepared.batch, prepared.requests[index], prepared.bodies[index])
            else { return }
            monitor.withLock {
                if prepared.markPosted() {
                    inFlight.removeFirst()
                    inFlightStreamBytes -= prepared.streamBytes
                    spare.append(prepared)
                    publishHeld()
                }
                monitor.broadcast()
            }
        }
    }
}

extension HTTPSinkConfig: SinkMaking {
    package func makeSink(name: String, context: SinkContext) throws(SinkFailure) -> any Sink {
        try HTTPSink(
            name: name, config: self, deadLetterPath: deadLetterPath(name: name, checkpointPath: context.checkpointPath), shape: context.shape,
            counters: context.counters, logger: context.logger, shouldGiveUp: context.shouldGiveUp, failureTimeoutMs: context.failureTimeoutMs)
    }

    /// `dead_letter_path`, or `dead-letter-<name>.jsonl` beside the checkpoint (or in the default
    /// checkpoint's directory when there is no checkpoint).
    func deadLetterPath(name: String, checkpointPath: String) -> String {
        if !deadLetterPath.isEmpty { return deadLetterPath }
        let checkpoint = checkpointPath.isEmpty ? InputConfig().checkpointPath : checkpointPath
        return Path.directory(of: checkpoint) + "/dead-letter-\(name).jsonl"
    }
}
