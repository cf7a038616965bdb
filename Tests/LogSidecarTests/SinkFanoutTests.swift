import Logging
import Synchronization
import TestSupport
import Testing

@testable import Configuration
@testable import Filters
@testable import Records
@testable import Sinks
@testable import Telemetry

/// The fan-out's retry state machine with an in-memory sink: no process, no clock waits.
@Suite("Sink fan-out")
struct SinkFanoutTests {
    func batch(_ records: Int) -> RecordBatch {
        var batch = RecordBatch()
        for index in 0..<records {
            batch.bytes += Array("{\"n\":\(index)}\n".utf8)
            batch.recordEnds.append(batch.bytes.count)
        }
        return batch
    }

    func fanout(_ sink: ScriptedSink, reopen: @escaping () -> Bool = { false }) -> (SinkFanout, SinkCounters) {
        let counters = Counters(sinkNames: [sink.name])
        let fanout = SinkFanout(
            sinks: [sink], counters: counters.sinks, logger: Logger(label: "test"), pause: { _ in }, shouldGiveUp: { false },
            reopenRequested: reopen)
        return (fanout, counters.sinks[0])
    }

    @Test("a transient failure resumes exactly where the sink stopped: every byte once, records counted once")
    func transientResumes() {
        let sink = ScriptedSink()
        let records = batch(10)
        sink.failures = [
            SinkFailure(accepted: records.recordEnds[3] + 2, reason: "ENOSPC"), SinkFailure(accepted: records.recordEnds[6], reason: "ENOSPC"),
        ]
        let (fanout, counters) = fanout(sink)
        #expect(fanout.deliver(records))
        #expect(sink.received == records.bytes)
        #expect(sink.attempts == 3)
        #expect(counters.recordsWritten.load(ordering: .relaxed) == 10)
        #expect(counters.errors.load(ordering: .relaxed) == 2)
        #expect(fanout.fatalFailure == nil)
    }

    @Test("a fatal failure is never retried: delivery and flush give up, and the fan-out remembers why")
    func fatalStops() {
        let sink = ScriptedSink()
        sink.failures = [SinkFailure(accepted: 0, reason: "Broken pipe", isFatal: true)]
        let (fanout, _) = fanout(sink)
        #expect(!fanout.deliver(batch(3)))
        #expect(sink.attempts == 1)
        #expect(fanout.fatalFailure?.reason.contains("Broken pipe") == true)
        #expect(!fanout.deliver(batch(3)) && sink.attempts == 1, "nothing more is sent")
        #expect(fanout.syncJobs() == nil)
    }

    @Test("a failed fsync on flush is fatal; SIGHUP during the retries of a failing sink reopens it")
    func flushAndReopen() {
        let sink = ScriptedSink()
        sink.flushFailures = [SinkFailure(accepted: 0, reason: "fsync: Input/output error", isFatal: true)]
        let (fanout, _) = fanout(sink)
        #expect(fanout.syncJobs() == nil)
        #expect(fanout.fatalFailure != nil)

        let failing = ScriptedSink()
        failing.failures = [SinkFailure(accepted: 0, reason: "ENOSPC"), SinkFailure(accepted: 0, reason: "ENOSPC")]
        var requests = [true, false]
        let (retrying, _) = self.fanout(failing) { requests.isEmpty ? false : requests.removeFirst() }
        #expect(retrying.deliver(batch(2)))
        #expect(failing.reopens == 1)
    }

    @Test("retries wait 50 ms doubling to 5 s; the failure's start is stamped on the fan-out's clock and cleared by a success")
    func backoffAndClock() {
        let sink = ScriptedSink()
        sink.failures = Array(repeating: SinkFailure(accepted: 0, reason: "ENOSPC"), count: 9)
        let clock = ManualClock()
        let counters = Counters(sinkNames: [sink.name])
        var waits: [Int] = []
        var failingSince: [Int64] = []
        let fanout = SinkFanout(
            sinks: [sink], counters: counters.sinks, logger: Logger(label: "test"),
            pause: { ms in
                waits.append(ms)
                failingSince.append(counters.sinks[0].failingSinceMs.load(ordering: .relaxed))
                clock.advance(ms: Int64(ms))
            },
            shouldGiveUp: { false }, clock: clock)
        let started = clock.monotonicMs()
        #expect(fanout.deliver(batch(2)))
        #expect(waits == [50, 100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000])
        #expect(Set(failingSince) == [started], "stamped once, at the first failure")
        #expect(counters.sinks[0].failingSinceMs.load(ordering: .relaxed) == 0)
    }
}
