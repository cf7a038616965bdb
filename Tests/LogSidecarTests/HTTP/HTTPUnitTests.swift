import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@testable import Configuration
@testable import Filters
@testable import HTTPSinks
@testable import Records
@testable import Sinks
@testable import SystemSupport
@testable import Telemetry

/// The HTTP sink's pure parts in memory: what a response means, the backoff, the configuration, and
/// the fan-out's acknowledged position with a sink that holds records back.
@Suite("HTTP sink, in memory", .serialized)
struct HTTPUnitTests {
    func response(_ status: Int, _ body: String = "", code: Int? = nil, retryAfter: Int? = nil) -> HTTPResponse {
        HTTPResponse(
            status: status, body: Array(body.utf8), retryAfterSeconds: retryAfter, clickHouseCode: code, seconds: 0,
            transportError: status == 0 ? "Connection refused" : "")
    }

    @Test("the contract's classes by status")
    func byStatus() {
        #expect(HTTPVerdict.byStatus(response(200)) == .delivered)
        #expect(HTTPVerdict.byStatus(response(204)) == .delivered)
        for status in [0, 408, 429, 500, 502, 503, 504] {
            guard case .transient = HTTPVerdict.byStatus(response(status)) else {
                Issue.record("\(status) not transient")
                continue
            }
        }
        for status in [400, 413, 422] {
            guard case .rejected = HTTPVerdict.byStatus(response(status)) else {
                Issue.record("\(status) not rejected")
                continue
            }
        }
        for status in [301, 401, 403, 404, 405, 409, 410] {
            guard case .configuration = HTTPVerdict.byStatus(response(status)) else {
                Issue.record("\(status) not configuration")
                continue
            }
        }
    }

    @Test("ClickHouse: the exception code decides, from the header or the body, whatever the status")
    func clickHouse() {
        var options = ClickHouseOptions()
        options.table = "logs"
        let format = ClickHouseFormat(options: options)
        #expect(format.verdict(response(200), count: 1) == .delivered)
        let mismatch = "Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected , before: abc"
        guard case .rejected = format.verdict(response(500, mismatch), count: 1) else {
            Issue.record("27 in the body")
            return
        }
        guard case .rejected = format.verdict(response(400, "bad", code: 26), count: 1) else {
            Issue.record("26 in the header")
            return
        }
        guard case .rejected = format.verdict(response(200, mismatch), count: 1) else {
            Issue.record("27 in a 200")
            return
        }
        guard
            case .configuration = format.verdict(
                response(404, "Code: 60, e.displayText() = DB::Exception: Table default.logs doesn't exist."), count: 1)
        else {
            Issue.record("60")
            return
        }
        guard case .transient = format.verdict(response(200, "Code: 241, e.displayText() = DB::Exception: Memory limit exceeded"), count: 1) else {
            Issue.record("241 in a 200")
            return
        }
        guard case .transient = format.verdict(response(500, "Code: 252, Too many parts"), count: 1) else {
            Issue.record("252")
            return
        }
        guard case .configuration = format.verdict(response(400, "Code: 62, Syntax error"), count: 1) else {
            Issue.record("62")
            return
        }
        #expect(ClickHouseFormat.exceptionCode(in: Array("Code: 33, e.displayText()".utf8)) == 33)
        #expect(ClickHouseFormat.exceptionCode(in: Array("Ok.".utf8)) == nil)
        var config = HTTPSinkConfig()
        config.url = "http://ch:8123/?date_time_input_format=best_effort"
        #expect(
            format.requestURL(config)
                == "http://ch:8123/?query=INSERT%20INTO%20%60default%60.%60logs%60%20FORMAT%20JSONEachRow&date_time_input_format=best_effort&input_format_skip_unknown_fields=1"
        )
    }

    @Test("full jitter within the doubling cap, capped at max_backoff_ms")
    func backoff() {
        var backoff = Backoff(firstMs: 100, maximumMs: 1000, jitter: true)
        for attempt in 0..<12 {
            let wait = backoff.next()
            #expect(wait >= 0 && wait <= min(1000, 100 << attempt), "attempt \(attempt): \(wait)")
        }
        var spread = Backoff(firstMs: 100, maximumMs: 30_000, jitter: true)
        let waits = (0..<50).map { _ in spread.next() }
        #expect(Set(waits).count > 10, "jitter spreads the waits")
    }

    @Test("credentials in a URL are masked: the user info's password, a lone user name, query parameters named like credentials")
    func masking() {
        #expect(HTTPSinkConfig.maskingCredentials("https://user:secret@host:8123/x?a=b") == "https://user:***@host:8123/x?a=b")
        #expect(HTTPSinkConfig.maskingCredentials("https://host/a@b") == "https://host/a@b")
        #expect(HTTPSinkConfig.maskingCredentials("http://glpat-token@host/") == "http://***@host/")
        #expect(
            HTTPSinkConfig.maskingCredentials("http://ch:8123/?user=ingest&password=hunter3&database=logs")
                == "http://ch:8123/?user=ingest&password=***&database=logs")
        #expect(
            HTTPSinkConfig.maskingCredentials("https://h/p?access_token=abc&API_KEY=k&x_secret=s&q=1#frag?token=no")
                == "https://h/p?access_token=***&API_KEY=***&x_secret=***&q=1#frag?token=no")
        #expect(HTTPSinkConfig.maskingCredentials("http://host:9200/_bulk?refresh=true") == "http://host:9200/_bulk?refresh=true")
        for name in ["Authorization", "proxy-authorization", "X-API-Key", "X-ClickHouse-Key", "X-Auth-Token", "x-secret", "X-Password", "Cookie"] {
            #expect(HTTPSinkConfig.isCredential(name), "\(name)")
        }
        for name in ["X-Tenant", "X-Scope-OrgID", "Content-Type", "X-Request-ID"] { #expect(!HTTPSinkConfig.isCredential(name), "\(name)") }
    }

    /// This process's threads with that name (`/proc/self/task/*/comm`).
    static func threads(named name: String) -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { (try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8))?.hasPrefix(name) == true }.count
    }

    @Test("an HTTP sink started and closed a thousand times ends every thread it started, also while it retries a receiver that is down")
    func startAndClose() throws {
        var config = HTTPSinkConfig()
        config.url = "http://127.0.0.1:1"
        config.batchTimeoutMs = 1
        config.maxBackoffMs = 60_000
        let before = Self.threads(named: "http-")
        var batch = RecordBatch()
        batch.bytes = Array("{\"a\":1}\n".utf8)
        batch.recordEnds = [batch.bytes.count]
        for round in 0..<1000 {
            let counters = SinkCounters(name: "t", http: HTTPCounters())
            let sink = try HTTPSink(
                name: "t", config: config, deadLetterPath: "/nonexistent/dead-letter.jsonl", shape: RecordShape(), counters: counters,
                logger: Logger(label: "test"), shouldGiveUp: { false })
            try sink.start()
            // A sending thread and two writing threads (gzip), each naming itself as it starts.
            try waitUntil("the sink's threads", every: 0.001) { Self.threads(named: "http-") == before + 3 }
            if round % 100 == 0 {
                // Closed in the middle of its retries: a backoff wait ends at once.
                try sink.write(batch, from: 0)
                try waitUntil("a failed request") { counters.errors.load(ordering: .relaxed) > 0 }
            }
            let closing = ContinuousClock.now
            sink.close()
            #expect(ContinuousClock.now - closing < .seconds(5))
            #expect(sink.unacknowledgedBytes == (round % 100 == 0 ? batch.bytes.count : 0), "a record not acknowledged stays so")
        }
        #expect(Self.threads(named: "http-") == before)
    }

    @Test("a batch is taken up to batch_max_bytes and the rest stays for the next one, with its origins and stream bytes")
    func takeUpToMaximum() {
        var filling = batch(Array(repeating: 100, count: 105))
        filling.origins = (0..<105).map { RecordOrigin(source: UInt64($0), offset: 0) }
        let prepared = PreparedBatch()
        let left = prepared.take(&filling, streamBytes: 10_500, maxBytes: 1000, split: false)
        #expect(prepared.batch.count == 10 && prepared.batch.bytes.count == 1000 && prepared.streamBytes == 1000)
        #expect(left == 9500 && filling.count == 95 && filling.recordEnds.first == 100 && filling.recordEnds.last == 9500)
        #expect(filling.origins.first?.source == 10 && prepared.batch.origins.count == 10)
        #expect(prepared.requests == [0..<10])
        var single = batch([5000])
        #expect(prepared.take(&single, streamBytes: 5000, maxBytes: 1000, split: false) == 0)
        #expect(prepared.batch.count == 1)
    }

    @Test("gzip's two writing threads split a large batch in two requests, except for ClickHouse, where each request is a part to merge")
    func clickHouseBatchesWhole() throws {
        for (format, expected) in [(HTTPFormatChoice(NDJSONOptions()), 2), (HTTPFormatChoice(ClickHouseOptions()), 1)] {
            var config = HTTPSinkConfig()
            config.url = "http://receiver.test/"
            config.format = format
            config.batchTimeoutMs = 1
            let transport = ScriptedTransport()
            let sink = try HTTPSink(
                name: "t", config: config, deadLetterPath: "/nonexistent/dead-letter.jsonl", shape: RecordShape(),
                counters: SinkCounters(name: "t", http: HTTPCounters()), logger: Logger(label: "test"), shouldGiveUp: { false },
                transport: transport.factory)
            try sink.start()
            let records = batch(Array(repeating: 200, count: 1000))
            try sink.write(records, from: 0)
            try sink.drain()
            sink.close()
            #expect(transport.requests.count == expected, "\(format.name)")
        }
    }

    @Test("the acknowledged position is the slowest sink's; a sink that counts its own records is not counted by the fan-out")
    func acknowledgedPosition() {
        let holding = HoldingSink()
        let plain = DiscardSink(name: "plain")
        let counters = Counters(sinkNames: [plain.name, holding.name])
        let fanout = SinkFanout(
            sinks: [plain, holding], counters: counters.sinks, logger: Logger(label: "test"), pause: { _ in }, shouldGiveUp: { false })
        var batch = RecordBatch()
        batch.bytes = Array("{\"n\":1}\n{\"n\":2}\n".utf8)
        batch.recordEnds = [8, 16]
        #expect(fanout.deliver(batch))
        #expect(fanout.deliver(batch))
        #expect(fanout.writtenBytes == 32)
        #expect(fanout.acknowledgedBytes == 0)
        holding.held = 16
        #expect(fanout.acknowledgedBytes == 16)
        holding.held = 0
        #expect(fanout.acknowledgedBytes == 32)
        #expect(counters.sinks[0].recordsWritten.load(ordering: .relaxed) == 4)
        #expect(counters.sinks[1].recordsWritten.load(ordering: .relaxed) == 0)
    }

    /// A batch of records of the given sizes (newline included).
    func batch(_ sizes: [Int]) -> RecordBatch {
        var batch = RecordBatch()
        for size in sizes {
            batch.bytes += Array(repeating: UInt8(ascii: "x"), count: size - 1) + [0x0A]
            batch.recordEnds.append(batch.bytes.count)
        }
        return batch
    }

    @Test(
        "a batch's requests: every record once and in order, each within batch_max_bytes (a longer record alone), even halves from 64 KiB when two threads write"
    )
    func requestPlan() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            let maxBytes = [4096, 65536, 1 << 20][round % 3]
            let sizes = (0..<Int.random(in: 1...3000, using: &generator)).map { _ in
                Int.random(in: 0..<100, using: &generator) == 0
                    ? Int.random(in: 1...(2 * maxBytes), using: &generator) : Int.random(in: 1...400, using: &generator)
            }
            let records = batch(sizes)
            for split in [false, true] {
                let requests = PreparedBatch.requests(records, maxBytes: maxBytes, split: split)
                #expect(requests.flatMap { Array($0) } == Array(0..<records.count), "round \(round)")
                for request in requests where request.count > 1 {
                    #expect(records.recordEnds[request.upperBound - 1] - records.start(of: request.lowerBound) <= maxBytes, "round \(round)")
                }
                let total = records.bytes.count
                let needed = (total + maxBytes - 1) / maxBytes
                if split && total >= 64 << 10 && total <= maxBytes {
                    #expect(requests.count == 2, "round \(round)")
                    if let first = requests.first, sizes.max() ?? 0 <= 400 {
                        let firstBytes = records.recordEnds[first.upperBound - 1]
                        #expect(abs(firstBytes - total / 2) <= 400, "round \(round): \(firstBytes) of \(total)")
                    }
                }
                if !split && total <= maxBytes { #expect(requests.count == 1, "round \(round)") }
                if sizes.max() ?? 0 <= 400 { #expect(requests.count <= max(needed, split && total >= 64 << 10 ? 2 : 1) + 1, "round \(round)") }
            }
        }
        #expect(PreparedBatch.requests(RecordBatch(), maxBytes: 1024, split: true).isEmpty)
        #expect(PreparedBatch.requests(batch([70_000]), maxBytes: 1 << 20, split: true) == [0..<1])
    }
}
