import Configuration
import Glibc
import Logging
import Records
import Sinks
import Synchronization
import SystemSupport
import Telemetry

/// The sender thread's half of an HTTP sink: posts one batch until every record is acknowledged or
/// dead-lettered. Transient and configuration errors are retried with backoff for as long as it
/// takes (reading pauses behind the full sink; the input file is the buffer); a refused batch is
/// halved until the refused records stand alone, and those go to the dead-letter file. A request
/// comes written (`HTTPSink`'s writing threads); only one that changes (a split, items sent again) is
/// written here.
final class HTTPDelivery {
    let name: String
    private let config: HTTPSinkConfig
    private let format: any HTTPFormat
    private let counters: SinkCounters
    private let metrics: HTTPCounters
    private let logger: Logger
    private let deadLetter: DeadLetterFile
    private let headers: [String]
    private let transport: HTTPTransportFactory
    private var connection: (any HTTPTransport)?
    /// The time backoff waits and failure durations are measured on.
    private let clock: any TimeSource
    /// Writes the bodies of requests that change on the way.
    private let writer: RequestWriter
    /// How long the receiver may refuse every record before the log says the sink failed.
    private let failureTimeoutMs: Int64
    /// The log said the sink failed: it says so again when the receiver acknowledges something.
    private var failureLogged = false
    /// Set when the sink closes: retries end, and a backoff wait ends at once.
    private let stopping = Atomic<Bool>(false)
    private let backoffWait = Monitor()

    init(
        name: String, config: HTTPSinkConfig, format: any HTTPFormat, deadLetterPath: String, counters: SinkCounters, logger: Logger,
        failureTimeoutMs: Int, transport: HTTPTransportFactory, clock: any TimeSource
    ) {
        self.name = name
        self.transport = transport
        self.clock = clock
        self.failureTimeoutMs = Int64(failureTimeoutMs)
        self.config = config
        self.format = format
        self.counters = counters
        metrics = counters.http ?? HTTPCounters()
        self.logger = logger
        deadLetter = DeadLetterFile(path: deadLetterPath)
        writer = RequestWriter(format: format, compression: config.compression)
        var headers = ["Content-Type: \(format.contentType)", "User-Agent: log-sidecar", "Expect:"]
        headers += config.headers.map { "\($0.name): \($0.value)" }
        headers += config.headerEnv.map { "\($0.name): \($0.value)" }
        self.headers = headers
    }

    /// Returns once every record of request `records` (written in `body`) is delivered or dead-lettered:
    /// true; false when the sink closed first (what was not acknowledged stays so).
    func deliver(_ batch: RecordBatch, _ records: Range<Int>, _ body: RequestBody) -> Bool {
        send(batch, Array(records), body, prepared: true)
        return !stopping.load(ordering: .relaxed)
    }

    /// Ends the retries, and any backoff wait at once (the sink closes).
    func stop() {
        stopping.store(true, ordering: .relaxed)
        backoffWait.withLock { backoffWait.broadcast() }
    }

    /// Sends the records `records` (indices into `batch`, ascending) until each is acknowledged or
    /// dead-lettered; what the receiver wants again (a transient error, items it was too busy for)
    /// goes again after a backoff. `prepared`: `body` already holds their request.
    private func send(_ batch: RecordBatch, _ records: [Int], _ body: RequestBody, prepared: Bool = false) {
        var backoff = retryBackoff()
        var pending = records
        var ready = prepared
        while !stopping.load(ordering: .relaxed) {
            if !ready { writer.write(batch, pending, into: body) }
            // A transient error sends the same body again.
            ready = true
            let response = post(batch, body)
            switch format.verdict(response, count: pending.count) {
            case .delivered:
                written(pending.count)
                recovered()
                return
            case .partiallyRejected(let rejected, let reason):
                let lost = min(max(rejected, 0), pending.count)
                written(pending.count - lost)
                if lost < pending.count { recovered() } else { refused(reason) }
                metrics.deadLettered.wrappingAdd(lost, ordering: .relaxed)
                logger.warning(
                    "the receiver refused records without naming them; they are counted as dead-lettered",
                    metadata: ["sink": "\(name)", "records": "\(lost)", "reason": "\(reason)"])
                return
            case .itemized(let items):
                var delivered = 0
                var again: [Int] = []
                var reason = ""
                for (index, item) in zip(pending, items) {
                    switch item {
                    case .delivered: delivered += 1
                    case .retry(let why):
                        again.append(index)
                        reason = why
                    case .rejected(let status, let detail):
                        deadLetter(batch, index, status: status, response: detail, reason: String(decoding: detail.prefix(300), as: UTF8.self))
                    }
                }
                written(delivered)
                // After the refused items: the receiver acknowledged some, so it is not refusing everything.
                if delivered > 0 { recovered() }
                if again.isEmpty { return }
                pending = again
                ready = false
                failed("\(again.count) of the records: \(reason)", hint: "sending those again with backoff")
            case .rejected(let reason):
                if pending.count == 1 {
                    deadLetter(batch, pending[0], status: response.status, response: response.body, reason: reason)
                    return
                }
                let middle = pending.count / 2
                send(batch, Array(pending[..<middle]), body)
                send(batch, Array(pending[middle...]), body)
                return
            case .transient(let reason):
                failed(reason, hint: "retrying with backoff")
            case .configuration(let reason):
                failed(reason, hint: "the receiver refuses the request itself (address, credentials, table?); retrying with backoff")
            }
            metrics.retries.wrappingAdd(1, ordering: .relaxed)
            // The receiver's own word (`Retry-After`) wins when it gives one.
            pause(response.retryAfterSeconds.map { min($0, 3600) * 1000 } ?? Int(backoff.next()))
        }
    }

    /// From 100 ms to `max_backoff_ms`, jittered.
    private func retryBackoff() -> Backoff { Backoff(firstMs: 100, maximumMs: Int64(config.maxBackoffMs), jitter: true) }

    private func written(_ count: Int) { counters.recordsWritten.wrappingAdd(count, ordering: .relaxed) }

    private func post(_ batch: RecordBatch, _ body: RequestBody) -> HTTPResponse {
        if connection == nil {
            do {
                connection = try transport.open(
                    HTTPEndpoint(
                        url: format.requestURL(config), headers: headers, caFile: config.tlsCAFile.isEmpty ? nil : config.tlsCAFile,
                        timeoutMs: config.timeoutMs, responseLimit: format.responseLimit))
            } catch {
                return HTTPResponse(status: 0, body: [], seconds: 0, transportError: error.reason)
            }
        }
        guard let connection else { return HTTPResponse(status: 0, body: [], seconds: 0, transportError: "no connection") }
        metrics.lastBatchBytes.store(body.plainCount, ordering: .relaxed)
        let response = body.withWire(batch) { bytes, gzipped in connection.post(bytes, gzipped: gzipped) }
        metrics.recordRequest(status: response.status, seconds: response.seconds)
        return response
    }

    private func deadLetter(_ batch: RecordBatch, _ index: Int, status: Int, response: [UInt8], reason: String) {
        var backoff = retryBackoff()
        let start = batch.start(of: index)
        let end = batch.recordEnds[index] - 1
        while !stopping.load(ordering: .relaxed) {
            do throws(SystemError) {
                try deadLetter.append(sink: name, status: status, response: response, record: batch.bytes[start..<end])
                metrics.deadLettered.wrappingAdd(1, ordering: .relaxed)
                logger.warning(
                    "a record was refused for its content; it is in the dead-letter file",
                    metadata: ["sink": "\(name)", "reason": "\(reason)", "path": "\(deadLetter.path)"])
                refused(reason)
                return
            } catch {
                failed("cannot write the dead-letter file: \(error)", hint: "retrying with backoff")
                pause(Int(backoff.next()))
            }
        }
    }

    private func pause(_ milliseconds: Int) {
        let deadline = clock.monotonicMs() + Int64(milliseconds)
        backoffWait.withLock {
            while !stopping.load(ordering: .relaxed) {
                let left = deadline - clock.monotonicMs()
                if left <= 0 { return }
                backoffWait.wait(milliseconds: left)
            }
        }
    }

    private func failed(_ reason: String, hint: String) {
        counters.errors.wrappingAdd(1, ordering: .relaxed)
        let changed = counters.lastError.withLock { last in
            defer { last = reason }
            return last != reason
        }
        let since = counters.failingSinceMs.load(ordering: .relaxed)
        if since == 0 { counters.failingSinceMs.store(clock.monotonicMs(), ordering: .relaxed) }
        // A failure that refusals started silently is logged now.
        if since == 0 || !failureLogged {
            failureLogged = true
            logger.error("sink failed; \(hint), reading paused once its buffer is full", metadata: ["sink": "\(name)", "error": "\(reason)"])
        } else if changed {
            logger.warning("sink still failing", metadata: ["sink": "\(name)", "error": "\(reason)"])
        }
    }

    /// Records went to the dead letter: the receiver answers but takes nothing. One that refuses
    /// everything (a wrong table, a URL that answers 400) is failing as surely as one that is down, from
    /// its first refusal until it acknowledges a record; the log says so once that lasted
    /// `sink_failure_timeout_ms` (each refused record is logged on its own already).
    private func refused(_ reason: String) {
        counters.lastError.withLock { $0 = "the receiver refuses the records: \(reason)" }
        let now = clock.monotonicMs()
        let since = counters.failingSinceMs.load(ordering: .relaxed)
        if since == 0 {
            counters.failingSinceMs.store(now, ordering: .relaxed)
        } else if !failureLogged && now - since > failureTimeoutMs {
            failureLogged = true
            logger.error(
                "sink failed: the receiver has refused every record for \(now - since) ms; they are in the dead-letter file",
                metadata: ["sink": "\(name)", "error": "\(reason)", "path": "\(deadLetter.path)"])
        }
    }

    /// The receiver acknowledged records: the only sign that a failing sink works again.
    private func recovered() {
        guard counters.failingSinceMs.load(ordering: .relaxed) != 0 else { return }
        counters.failingSinceMs.store(0, ordering: .relaxed)
        if failureLogged { logger.notice("sink recovered", metadata: ["sink": "\(name)"]) }
        failureLogged = false
    }
}
