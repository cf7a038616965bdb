import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@testable import Configuration
@testable import Filters
@testable import HTTPSinks
@testable import Records
@testable import SystemSupport
@testable import Telemetry

/// The delivery core's state machine against a scripted receiver: retries, splits, dead letters and
/// connections, without libcurl or a socket.
@Suite("HTTP delivery core, with a scripted receiver")
struct HTTPDeliveryTests {
    struct Rig {
        let directory = TestDirectory()
        let transport = ScriptedTransport()
        let counters = Counters(sinkNames: ["receiver"], httpSinks: ["receiver"])
        var config = HTTPSinkConfig()

        init() {
            config.url = "http://receiver.test:8080/"
            config.compression = .none
            config.maxBackoffMs = 5
        }

        var sink: SinkCounters { counters.sinks[0] }
        var http: HTTPCounters { counters.sinks[0].http! }
        var deadLetterPath: String { directory.file("dead-letter.jsonl") }

        func delivery() -> HTTPDelivery {
            HTTPDelivery(
                name: "receiver", config: config, format: NDJSONFormat(),
                deadLetterPath: deadLetterPath, counters: sink, logger: Logger(label: "test"), failureTimeoutMs: 60_000,
                transport: transport.factory, clock: SystemClock.shared)
        }

        /// Delivers `batch` whole, as the sending thread does.
        func deliver(_ batch: RecordBatch, with delivery: HTTPDelivery? = nil) -> Bool {
            let delivery = delivery ?? self.delivery()
            let body = RequestBody()
            RequestWriter(format: NDJSONFormat(), compression: config.compression)
                .write(batch, Array(0..<batch.count), into: body)
            return delivery.deliver(batch, 0..<batch.count, body)
        }
    }

    func batch(_ texts: [String]) -> RecordBatch {
        var batch = RecordBatch()
        for text in texts {
            batch.bytes += Array("{\"m\":\"\(text)\"}\n".utf8)
            batch.recordEnds.append(batch.bytes.count)
        }
        return batch
    }

    @Test("a receiver that answers 503 twice gets the same body again; the records count once and the failure clears")
    func transientThenDelivered() {
        let rig = Rig()
        rig.transport.answer(503, "busy")
        rig.transport.answer(503, "busy")
        rig.transport.answer(200)
        let records = batch(["a", "b", "c", "d"])
        #expect(rig.deliver(records))
        #expect(rig.transport.requests.count == 3)
        #expect(Set(rig.transport.requests.map(\.body)) == [records.bytes])
        #expect(rig.sink.recordsWritten.load(ordering: .relaxed) == 4)
        #expect(rig.http.retries.load(ordering: .relaxed) == 2)
        #expect(rig.sink.errors.load(ordering: .relaxed) == 2)
        #expect(rig.sink.failingSinceMs.load(ordering: .relaxed) == 0)
        #expect(rig.transport.opened == 1, "one keep-alive connection")
    }

    @Test("a 400 halves the request until the refused record stands alone: it is dead-lettered, every other record sent until accepted once")
    func rejectedIsolated() throws {
        let rig = Rig()
        rig.transport.answers = [
            { body in
                let bad = String(decoding: body, as: UTF8.self).contains("bad")
                return HTTPResponse(status: bad ? 400 : 200, body: Array((bad ? "Cannot parse" : "").utf8), seconds: 0.001, transportError: "")
            }
        ]
        let texts = ["r0", "r1", "r2", "r3", "r4", "bad", "r6", "r7"]
        #expect(rig.deliver(batch(texts)))
        let accepted = rig.transport.requests.filter { !$0.text.contains("bad") }.flatMap { $0.text.split(separator: "\n") }
        #expect(accepted.sorted() == texts.filter { $0 != "bad" }.map { "{\"m\":\"\($0)\"}" })
        #expect(rig.transport.requests.count == 7, "8 refused, 4 taken, 4 refused, 2 refused, 2 taken, 1 taken, 1 refused")
        #expect(rig.sink.recordsWritten.load(ordering: .relaxed) == 7)
        #expect(rig.http.deadLettered.load(ordering: .relaxed) == 1)
        let deadLetter = try String(contentsOfFile: rig.deadLetterPath, encoding: .utf8)
        #expect(deadLetter.split(separator: "\n").count == 1)
        #expect(deadLetter.contains(#""sink":"receiver","status":400,"response":"Cannot parse","record":{"m":"bad"}}"#))
    }

    @Test("a connection that cannot be opened is opened again with backoff; nothing is lost")
    func openRetried() {
        let rig = Rig()
        rig.transport.openFailures = 2
        rig.transport.answer(200)
        #expect(rig.deliver(batch(["x"])))
        #expect(rig.transport.opened == 3)
        #expect(rig.transport.requests.count == 1)
        #expect(rig.sink.recordsWritten.load(ordering: .relaxed) == 1)
        #expect(rig.sink.lastError.withLock { $0 }.contains("Could not resolve host"))
    }

    @Test("Retry-After is the receiver's word: the next attempt waits as long as it says, not the short backoff")
    func retryAfter() {
        let rig = Rig()
        rig.transport.answer(429, "slow down", retryAfterSeconds: 1)
        rig.transport.answer(200)
        let started = ContinuousClock.now
        #expect(rig.deliver(batch(["x"])))
        #expect(ContinuousClock.now - started >= .milliseconds(950))
        #expect(rig.transport.requests.count == 2)
    }

    @Test("closing ends a long backoff wait at once; what was not acknowledged stays so")
    func stopEndsWait() throws {
        var rig = Rig()
        rig.config.maxBackoffMs = 60_000
        rig.transport.answer(503, "down for maintenance", retryAfterSeconds: 60)
        let delivery = rig.delivery()
        let records = batch(["x"])
        let result = Mutex<Bool?>(nil)
        nonisolated(unsafe) let (unsafeRig, unsafeDelivery, unsafeRecords) = (rig, delivery, records)
        let thread = try NamedThread.start(name: "test-deliver") { result.withLock { $0 = unsafeRig.deliver(unsafeRecords, with: unsafeDelivery) } }
        try waitUntil("the first attempt, answered with a minute's Retry-After") { unsafeRig.transport.requests.count >= 1 }
        let stopping = ContinuousClock.now
        delivery.stop()
        thread.join()
        #expect(ContinuousClock.now - stopping < .seconds(5))
        #expect(result.withLock { $0 } == false)
        #expect(rig.sink.recordsWritten.load(ordering: .relaxed) == 0)
    }
}
