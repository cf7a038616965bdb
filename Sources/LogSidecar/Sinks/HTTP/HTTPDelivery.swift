import Glibc
import Logging
import Synchronization

/// The sender thread's half of an HTTP sink: posts one batch until every record is acknowledged or
/// dead-lettered. Transient and configuration errors are retried with backoff for as long as it
/// takes (reading pauses behind the full sink; the input file is the buffer); a refused batch is
/// halved until the refused records stand alone, and those go to the dead-letter file.
final class HTTPDelivery {
    let name: String
    private let config: HTTPSinkConfig
    private let format: any HTTPFormat
    private let counters: SinkCounters
    private let metrics: HTTPCounters
    private let logger: Logger
    private let deadLetter: DeadLetterFile
    private let headers: [String]
    private var connection: HTTPConnection?
    private let gzip: Gzip?
    private var body: [UInt8] = []

    init(name: String, config: HTTPSinkConfig, deadLetterPath: String, counters: SinkCounters, logger: Logger) {
        self.name = name
        self.config = config
        format = HTTPFormats.make(config)
        self.counters = counters
        metrics = counters.http ?? HTTPCounters()
        self.logger = logger
        deadLetter = DeadLetterFile(path: deadLetterPath)
        gzip = config.compression == .gzip ? Gzip() : nil
        var headers = ["Content-Type: \(format.contentType)", "User-Agent: log-sidecar", "Expect:"]
        headers += config.headers.map { "\($0.name): \($0.value)" }
        headers += config.headerEnv.map { "\($0.name): \($0.value)" }
        self.headers = headers
    }

    /// Returns once every record of `batch` is delivered or dead-lettered.
    func deliver(_ batch: RecordBatch) {
        var first = 0
        while first < batch.count {
            let start = first == 0 ? 0 : batch.recordEnds[first - 1]
            let last = max(batch.recordsEnding(atOrBefore: start + config.batchMaxBytes), first + 1)
            send(batch, first..<last)
            first = last
        }
    }

    private func send(_ batch: RecordBatch, _ records: Range<Int>) {
        var backoff = RetryBackoff(maximumMs: config.maxBackoffMs)
        while true {
            let response = post(batch, records)
            switch format.verdict(response) {
            case .delivered:
                counters.recordsWritten.wrappingAdd(records.count, ordering: .relaxed)
                recovered()
                return
            case .rejected(let reason):
                recovered()
                if records.count == 1 {
                    deadLetter(batch, records.lowerBound, response: response, reason: reason)
                    return
                }
                let middle = (records.lowerBound + records.upperBound) / 2
                send(batch, records.lowerBound..<middle)
                send(batch, middle..<records.upperBound)
                return
            case .transient(let reason):
                failed(reason, hint: "retrying with backoff")
            case .configuration(let reason):
                failed(reason, hint: "the receiver refuses the request itself (address, credentials, table?); retrying with backoff")
            }
            metrics.retries.wrappingAdd(1, ordering: .relaxed)
            pause(backoff.next(retryAfterSeconds: response.retryAfterSeconds))
        }
    }

    private func post(_ batch: RecordBatch, _ records: Range<Int>) -> HTTPResponse {
        let start = records.lowerBound == 0 ? 0 : batch.recordEnds[records.lowerBound - 1]
        let end = batch.recordEnds[records.upperBound - 1]
        if connection == nil {
            do {
                connection = try HTTPConnection(
                    url: format.requestURL(config), headers: headers, caFile: config.tlsCAFile.isEmpty ? nil : config.tlsCAFile,
                    timeoutMs: config.timeoutMs)
            } catch {
                return HTTPResponse(status: 0, body: [], seconds: 0, transportError: error.reason)
            }
        }
        guard let connection else { return HTTPResponse(status: 0, body: [], seconds: 0, transportError: "no connection") }
        let response = batch.bytes.withUnsafeBytes { raw in
            let plain = UnsafeRawBufferPointer(rebasing: raw[start..<end])
            if format.bodyIsRecords { return send(plain, on: connection) }
            body.removeAll(keepingCapacity: true)
            format.encode(plain, count: records.count, into: &body)
            return body.withUnsafeBytes { send($0, on: connection) }
        }
        metrics.recordRequest(status: response.status, seconds: response.seconds)
        return response
    }

    /// Gzipped unless `compression` is `none` (or zlib failed: then as it is, which is still valid).
    private func send(_ plain: UnsafeRawBufferPointer, on connection: HTTPConnection) -> HTTPResponse {
        metrics.lastBatchBytes.store(plain.count, ordering: .relaxed)
        if let gzip, let compressed = gzip.compress(plain) { return connection.post(compressed, gzipped: true) }
        return connection.post(plain, gzipped: false)
    }

    private func deadLetter(_ batch: RecordBatch, _ index: Int, response: HTTPResponse, reason: String) {
        var backoff = RetryBackoff(maximumMs: config.maxBackoffMs)
        let start = index == 0 ? 0 : batch.recordEnds[index - 1]
        let end = batch.recordEnds[index] - 1
        while true {
            do throws(SystemError) {
                try deadLetter.append(sink: name, status: response.status, response: response.body, record: batch.bytes[start..<end])
                metrics.deadLettered.wrappingAdd(1, ordering: .relaxed)
                logger.warning(
                    "a record was refused for its content; it is in the dead-letter file",
                    metadata: ["sink": "\(name)", "reason": "\(reason)", "path": "\(deadLetter.path)"])
                recovered()
                return
            } catch {
                failed("cannot write the dead-letter file: \(error)", hint: "retrying with backoff")
                pause(backoff.next())
            }
        }
    }

    private func pause(_ milliseconds: Int) {
        var time = timespec(tv_sec: milliseconds / 1000, tv_nsec: milliseconds % 1000 * 1_000_000)
        var left = timespec()
        while nanosleep(&time, &left) != 0 && errno == EINTR { time = left }
    }

    private func failed(_ reason: String, hint: String) {
        counters.errors.wrappingAdd(1, ordering: .relaxed)
        let changed = counters.lastError.withLock { last in
            defer { last = reason }
            return last != reason
        }
        if counters.failingSinceMs.load(ordering: .relaxed) == 0 {
            counters.failingSinceMs.store(MonotonicClock.milliseconds(), ordering: .relaxed)
            logger.error("sink failed; \(hint), reading paused once its buffer is full", metadata: ["sink": "\(name)", "error": "\(reason)"])
        } else if changed {
            logger.warning("sink still failing", metadata: ["sink": "\(name)", "error": "\(reason)"])
        }
    }

    private func recovered() {
        if counters.failingSinceMs.load(ordering: .relaxed) != 0 {
            counters.failingSinceMs.store(0, ordering: .relaxed)
            logger.notice("sink recovered", metadata: ["sink": "\(name)"])
        }
    }
}
