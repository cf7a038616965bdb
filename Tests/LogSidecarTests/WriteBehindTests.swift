import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@testable import Records
@testable import Sinks
@testable import Telemetry

/// Writes behind (`BatchWriter`, the file and stdout sinks): a large batch is written on the sink's thread, and
/// whatever the sink does next waits for it; a failure there is thrown one call later and nothing is
/// lost, repeated or cut.
@Suite("Writes behind (file and stdout sinks)")
struct WriteBehindTests {
    /// `count` records of about 100 bytes, numbered from `first`.
    static func batch(_ count: Int, from first: Int = 0) -> RecordBatch {
        var batch = RecordBatch()
        let padding = String(repeating: "x", count: 80)
        for number in first..<(first + count) {
            batch.bytes += Array("{\"n\":\(number),\"pad\":\"\(padding)\"}\n".utf8)
            batch.recordEnds.append(batch.bytes.count)
        }
        return batch
    }

    static func numbers(_ path: String) -> [Int] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            Int(line.dropFirst(5).prefix { $0.isNumber }) ?? -1
        }
    }

    /// A file sink on `out.jsonl` in a fresh directory; `full`: the path is a link to /dev/full, whose
    /// writes fail with ENOSPC.
    static func sink(full: Bool = false, counters: SinkCounters? = nil) -> (sink: FileSink, path: String, directory: TestDirectory) {
        let directory = TestDirectory()
        let path = directory.file("out.jsonl")
        if full { #expect(symlink("/dev/full", path) == 0) }
        return (FileSink(name: "file", path: path, maxBytes: 1 << 40, maxFiles: 1, counters: counters), path, directory)
    }

    @Test("a large batch is written behind: unacknowledged until settled; a small one after it follows it")
    func largeThenSmall() throws {
        let (sink, path, directory) = Self.sink()
        defer { withExtendedLifetime(directory) { sink.close() } }
        let large = Self.batch(2_000)
        #expect(large.bytes.count >= BatchWriter.behindBytes)
        try sink.write(large, from: 0)
        #expect(sink.unacknowledgedBytes == large.bytes.count, "acknowledged only once the sink has heard it is written")
        let small = Self.batch(3, from: 2_000)
        try sink.write(small, from: 0)
        #expect(sink.unacknowledgedBytes == 0)
        try sink.settle()
        #expect(Self.numbers(path) == Array(0..<2_003))
    }

    @Test("a write behind that fails is thrown by the next call and finished, whole records, after a reopen")
    func failureThenReopen() throws {
        let counters = Counters(sinkNames: ["file"]).sinks[0]
        let written = { counters.recordsWritten.load(ordering: .relaxed) }
        let (sink, path, directory) = Self.sink(full: true, counters: counters)
        #expect(sink.countsOwnRecords)
        defer { withExtendedLifetime(directory) { sink.close() } }
        let large = Self.batch(2_000)
        try sink.write(large, from: 0)
        let next = Self.batch(1_000, from: 2_000)
        var thrown: SinkFailure?
        do { try sink.write(next, from: 0) } catch { thrown = error }
        #expect(thrown?.reason.contains("No space left on device") == true)
        #expect(thrown?.accepted == 0, "nothing of the new batch was taken")
        #expect(sink.unacknowledgedBytes == large.bytes.count)
        #expect(written() == 0, "counted as they reach the file, not when handed over")
        #expect(throws: SinkFailure.self) { try sink.settle() }
        // The operator points the output somewhere with room and sends SIGHUP.
        #expect(unlink(path) == 0)
        sink.reopen()
        try sink.write(next, from: 0)
        try sink.settle()
        #expect(sink.unacknowledgedBytes == 0)
        #expect(Self.numbers(path) == Array(0..<3_000))
        #expect(written() == 3_000)
    }

    @Test("a write behind cut short in a record: thrown by the next call, resumed there, every byte once, records counted once")
    func partialFailureResumes() throws {
        let counters = Counters(sinkNames: ["memory"]).sinks[0]
        let writer = BatchWriter(threadName: "test-behind", counters: counters)
        defer { writer.stop() }
        // Its write runs on the writer's thread; the test reads what it received only after `catchUp`
        // has waited for that thread.
        let script = ScriptedSink()
        let first = Self.batch(1_000)
        let cut = first.recordEnds[400] + 7
        script.failures = [SinkFailure(accepted: cut, reason: "EIO"), SinkFailure(accepted: first.recordEnds[700], reason: "EIO")]
        try writer.write(first, from: 0, script.write)
        let second = Self.batch(1_000, from: 1_000)
        #expect(throws: SinkFailure.self) { try writer.write(second, from: 0, script.write) }
        #expect(writer.unacknowledgedBytes == first.bytes.count - first.recordEnds[700])
        try writer.write(second, from: 0, script.write)
        try writer.catchUp(accepted: 0, script.write)
        #expect(writer.unacknowledgedBytes == 0)
        #expect(script.received == first.bytes + second.bytes)
        #expect(counters.recordsWritten.load(ordering: .relaxed) == 2_000)
    }

    @Test("the fan-out settles a failing write behind with backoff, counts its errors, and gives up when told")
    func fanoutSettles() throws {
        let (sink, _, directory) = Self.sink(full: true)
        let counters = Counters(sinkNames: ["file"])
        var pauses = 0
        let fanout = SinkFanout(
            sinks: [sink], counters: counters.sinks, logger: Logger(label: "test"), pause: { _ in pauses += 1 },
            shouldGiveUp: { pauses >= 3 })
        defer { withExtendedLifetime(directory) { fanout.close() } }
        #expect(fanout.writesBehind)
        #expect(fanout.deliver(Self.batch(2_000)), "handed over: the failure is not known yet")
        #expect(!fanout.settle())
        #expect(counters.sinks[0].errors.load(ordering: .relaxed) == 4, "four attempts, three pauses")
        #expect(fanout.acknowledgedBytes == 0, "the checkpoint stays behind what failed")
        #expect(fanout.settle() == false)
    }
}
