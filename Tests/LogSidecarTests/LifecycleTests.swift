import Foundation
import Testing

/// Start and stop as operators and applications do them: late writers, read_from end, SIGINT, and a
/// second SIGTERM when the first one's drain is stuck.
@Suite("Lifecycle")
struct LifecycleTests {
    @Test("a writer that keeps appending to the renamed file after a rename rotation (nginx until it reopens): those lines are shipped")
    func lateWriterAfterRename() throws {
        let scenario = Scenario()
        let daemon = try scenario.start(["--input-rotate-wait-ms", "1000"])
        let old = open(scenario.input, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        defer { close(old) }
        func write(_ fd: Int32, _ range: Range<Int>) {
            let text = range.map { LogWriter.line($0) }.joined()
            _ = text.withCString { Foundation.write(fd, $0, strlen($0)) }
        }
        write(old, 0..<1_000)
        try scenario.waitForShipped(1_000)
        #expect(rename(scenario.input, scenario.input + ".1") == 0)
        let new = open(scenario.input, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        defer { close(new) }
        write(new, 1_000..<1_500)
        try scenario.waitForShipped(1_500)
        // The old descriptor still writes into the renamed file, after the new file was followed.
        write(old, 1_500..<2_000)
        try scenario.waitForShipped(2_000)
        #expect(try daemon.stop() == 0)
        let shipped = scenario.shipped
        #expect(shipped.sorted() == Array(0..<2_000))
        #expect(shipped.filter { $0 >= 1_500 } == Array(1_500..<2_000), "in order within the renamed file")
    }

    @Test("read_from end on a first start: only what is written after the start is shipped")
    func readFromEnd() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 1_000)
        let daemon = try scenario.start(["--input-read-from", "end"])
        try waitUntil("the daemon to follow the file") {
            FileManager.default.fileExists(atPath: scenario.checkpoint) || daemon.stderr.contains("following")
        }
        writer.write(count: 500)
        try scenario.waitForShipped(500)
        #expect(try daemon.stop() == 0)
        #expect(scenario.shipped == Array(1_000..<1_500))
    }

    @Test("SIGINT stops like SIGTERM: drained, checkpointed, exit 0")
    func sigint() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 20_000)
        let daemon = try scenario.start()
        daemon.signal(SIGINT)
        #expect(try daemon.waitForExit() == 0)
        #expect(scenario.shipped == Array(0..<20_000))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: scenario.input)[.size] as? Int)
        #expect(Output.checkpointOffset(scenario.checkpoint) == size)
    }

    @Test("a second SIGTERM while the first one's drain waits on a stalled sink: exit at once with 143")
    func secondSigterm() throws {
        let scenario = Scenario()
        let stalled = StalledFifo(in: scenario.directory)
        defer { withExtendedLifetime(stalled) {} }
        LogWriter(path: scenario.input).write(count: 5_000)
        let daemon = try scenario.start(["--sinks", "file:\(stalled.path)", "--shutdown-drain-timeout-ms", "60000"])
        try waitUntil("the daemon to fill the pipe and block in write()") { stalled.pendingBytes >= 60_000 }
        daemon.signal(SIGTERM)
        try waitUntil("the first signal to arrive") { daemon.stderr.contains("received signal") }
        #expect(daemon.process.isRunning, "the first SIGTERM waits for the sink")
        let second = Date()
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit(seconds: 5) == 143)
        #expect(Date().timeIntervalSince(second) < 2)
    }
}
