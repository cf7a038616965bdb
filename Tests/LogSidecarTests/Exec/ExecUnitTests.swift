import Foundation
import TestSupport
import Testing

@testable import Configuration
@testable import Exec
@testable import Filters
@testable import Processing
@testable import Records
@testable import Sinks
@testable import SystemSupport
@testable import Telemetry

/// Exec mode's parts without a child process: the backoff, the status decoding, the pipes read into
/// a recording consumer, and the `stream` field in both enrichment modes.
@Suite("Exec mode, without a process")
struct ExecUnitTests {
    @Test("backoff doubles from 1 s to 30 s over short runs, and starts over after a run longer than the cap")
    func backoff() {
        var backoff = Backoff.restart()
        let short = (0..<7).map { _ in backoff.delay(afterRunningMs: 100) }
        #expect(short == [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000])
        #expect(backoff.delay(afterRunningMs: 30_000) == 1_000)
        #expect(backoff.delay(afterRunningMs: 10) == 2_000)
    }

    @Test("restart policies: never, on-failure (non-zero or a signal), always")
    func policies() {
        #expect(!RestartPolicy.never.restarts(after: .exited(1)))
        #expect(!RestartPolicy.onFailure.restarts(after: .exited(0)))
        #expect(RestartPolicy.onFailure.restarts(after: .exited(2)))
        #expect(RestartPolicy.onFailure.restarts(after: .killed(signal: SIGKILL)))
        #expect(RestartPolicy.always.restarts(after: .exited(0)))
    }

    @Test("wait statuses decode as a shell reports them")
    func exitStatus() {
        #expect(ExitStatus(waitStatus: 3 << 8) == .exited(3))
        #expect(ExitStatus(waitStatus: 3 << 8).code == 3)
        #expect(ExitStatus(waitStatus: SIGKILL) == .killed(signal: SIGKILL))
        #expect(ExitStatus(waitStatus: SIGKILL).code == 137)
        // A core dump sets bit 7 beside the signal.
        #expect(ExitStatus(waitStatus: SIGQUIT | 0x80).code == 128 + SIGQUIT)
    }

    /// Two real pipes, their write ends kept by the test.
    private func pipes() -> (streams: ChildStreams, consumer: RecordingConsumer, stdout: Int32, stderr: Int32) {
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        _ = pipe(&out)
        _ = pipe(&err)
        for fd in [out[0], err[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        let consumer = RecordingConsumer()
        let streams = ChildStreams(
            consumer: consumer, counters: Counters(sinkNames: []), buffer: ReadBuffer(readSize: 4096), maxLineBytes: 1024, format: .json)
        streams.add(stdout: out[0], stderr: err[0])
        return (streams, consumer, out[1], err[1])
    }

    private func write(_ fd: Int32, _ text: String) {
        _ = text.withCString { Foundation.write(fd, $0, strlen($0)) }
    }

    @Test("lines from both pipes keep their stream; a line split across reads is joined; the last line at the end of a pipe is complete")
    func streamsInterleaved() throws {
        let (streams, consumer, stdout, stderr) = pipes()
        write(stdout, "{\"a\":1}\n{\"a\":")
        write(stderr, "warn 1\nwarn")
        #expect(try streams.read() == .drained)
        write(stdout, "2}\n")
        write(stderr, " 2\n")
        #expect(try streams.read() == .drained)
        write(stdout, "tail without newline")
        close(stdout)
        close(stderr)
        // The bytes come back short, the end on a later read (the loop's poll reports it).
        for _ in 0..<3 where !streams.allClosed { #expect(try streams.read() == .drained) }
        #expect(streams.allClosed)
        #expect(consumer.lines.filter { $0.origin == "stdout" }.map(\.text) == ["{\"a\":1}", "{\"a\":2}", "tail without newline"])
        #expect(consumer.lines.filter { $0.origin == "stderr" }.map(\.text) == ["warn 1", "warn 2"])
        #expect(consumer.partials.isEmpty, "the end of a pipe completes its last line")
    }

    @Test("pipes still open at the end of the drain: the begun line is shipped as partial and the pipes closed")
    func closeAllShipsPartial() throws {
        let (streams, consumer, stdout, stderr) = pipes()
        defer {
            close(stdout)
            close(stderr)
        }
        write(stdout, "done\nhalf a li")
        #expect(try streams.read() == .drained)
        #expect(streams.closeAll())
        #expect(streams.allClosed)
        #expect(consumer.lines.map(\.text) == ["done", "half a li"])
        #expect(consumer.partials == ["half a li"])
    }

    @Test("more than the budget waiting: read hands back with .more, and the next calls go on where it stopped")
    func budget() throws {
        let (streams, consumer, stdout, stderr) = pipes()
        close(stderr)
        let line = String(repeating: "x", count: 99) + "\n"
        write(stdout, String(repeating: line, count: 600))
        close(stdout)
        var outcomes: [ChildStreams.Outcome] = []
        while !streams.allClosed && outcomes.count < 100 { outcomes.append(try streams.read(budgetBytes: 10_000)) }
        #expect(consumer.lines.count == 600)
        #expect(consumer.lines.allSatisfy { $0.text.count == 99 })
        // The budget is checked after each round of reads (four of 4 KiB here); the last short read
        // and the end of the pipe are .drained.
        #expect(outcomes.count >= 4, "60,000 bytes in turns of about 10,000")
        #expect(outcomes.prefix(3).allSatisfy { $0 == .more }, "\(outcomes)")
    }

    @Test("a read that found a trickle asks the loop to let the pipe fill; an empty one does not")
    func trickle() throws {
        let (streams, _, stdout, stderr) = pipes()
        defer {
            close(stdout)
            close(stderr)
        }
        write(stdout, "{\"one\":1}\n")
        _ = try streams.read()
        #expect(streams.trickled)
        _ = try streams.read()
        #expect(!streams.trickled, "nothing read")
    }

    private func encode(_ mode: EnrichMode, _ line: String, source: LineSource) -> String {
        let fields = [
            EnrichmentField(key: "host", value: Array("\"h\"".utf8)), EnrichmentField(key: "stream", value: nil, source: .stream),
            EnrichmentField(key: "file", value: nil, source: .file),
        ]
        let enricher = Enricher(mode: mode, fields: fields)
        enricher.begin(source, format: .json)
        var batch = RecordBatch()
        Array(line.utf8).withUnsafeBytes { _ = enricher.encode(.complete($0), partial: false, into: &batch) }
        return String(decoding: batch.bytes, as: UTF8.self)
    }

    @Test("stream is a top-level field in merge and wrap modes; the application's own key wins in merge; file lines have none")
    func streamField() {
        #expect(encode(.merge, #"{"a":1}"#, source: .stream(.stderr)) == #"{"a":1,"host":"h","stream":"stderr"}"# + "\n")
        #expect(encode(.wrap, #"{"a":1}"#, source: .stream(.stdout)) == #"{"raw":{"a":1},"host":"h","stream":"stdout"}"# + "\n")
        #expect(encode(.merge, #"{"stream":"mine"}"#, source: .stream(.stdout)) == #"{"stream":"mine","host":"h"}"# + "\n")
        #expect(encode(.merge, "plain", source: .stream(.stdout)) == #"{"message":"plain","parse_error":true,"host":"h","stream":"stdout"}"# + "\n")
        #expect(encode(.merge, #"{"a":1}"#, source: .file(origin: "/x.log")) == #"{"a":1,"host":"h","file":"/x.log"}"# + "\n")
    }
}
