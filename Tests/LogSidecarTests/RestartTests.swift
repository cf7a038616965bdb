import Foundation
import Testing

@Suite("Restarts from the checkpoint")
struct RestartTests {
    @Test("a clean stop and restart in the middle of a stream: no loss, no duplicate")
    func cleanRestart() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        let first = try scenario.start()
        writer.run(rate: 5000, seconds: 1.5, rotation: .none)
        #expect(try first.stop() == 0)
        writer.run(rate: 5000, seconds: 1, rotation: .none)
        let second = try scenario.start()
        writer.run(rate: 5000, seconds: 1.5, rotation: .none)
        try scenario.waitForShipped(writer.written)
        #expect(try second.stop() == 0)
        #expect(scenario.shipped == Array(0..<writer.written))
    }

    @Test("kill -9 and restart in the middle of a stream: no loss")
    func killAndRestart() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        let first = try scenario.start()
        writer.run(rate: 5000, seconds: 1.5, rotation: .none)
        first.signal(SIGKILL)
        _ = try first.waitForExit()
        writer.run(rate: 5000, seconds: 0.5, rotation: .none)
        let second = try scenario.start()
        writer.run(rate: 5000, seconds: 1.5, rotation: .none)
        try waitUntil("every line shipped at least once") {
            Set(scenario.shipped).count == writer.written
        }
        #expect(try second.stop() == 0)
        let audit = Output.audit(scenario.shipped, expected: writer.written)
        #expect(audit.missing.isEmpty)
        print("kill -9: \(writer.written) lines, \(audit.duplicates) duplicates after restart")
    }

    /// Ships `shipped` lines and stops; while stopped, appends `appended` lines to the file, rotates it
    /// and writes `afterwards` more; restarts, and returns what was shipped once every line arrived.
    func restartAcross(
        _ rotation: LogWriter.Rotation, _ scenario: Scenario, _ writer: LogWriter, shipped: Int, appended: Int, afterwards: Int
    ) throws -> [Int] {
        writer.write(count: shipped)
        let first = try scenario.start()
        try scenario.waitForShipped(shipped)
        #expect(try first.stop() == 0)
        writer.write(count: appended)  // after the stop, into the file about to be rotated
        writer.rotate(rotation)
        writer.write(count: afterwards)
        let second = try scenario.start()
        try scenario.waitForShipped(writer.written)
        #expect(try second.stop() == 0)
        return scenario.shipped
    }

    @Test("a rotation while stopped: the old file's rest first, then the new file, nothing missing")
    func rotationWhileStopped() throws {
        let scenario = Scenario()
        let shipped = try restartAcross(.renameAndCreate, scenario, LogWriter(path: scenario.input), shipped: 1000, appended: 500, afterwards: 500)
        #expect(shipped == Array(0..<2000))
    }

    @Test(
        "10,000 lines of 1 KiB shipped, then while stopped 5,000 more, a rename and 5,000 into a new file: all 20,000 in order",
        arguments: [false, true])
    func largeRotationWhileStopped(globMatchesRotated: Bool) throws {
        let scenario = Scenario("largeRotationWhileStopped\(globMatchesRotated)")
        if globMatchesRotated { scenario.inputArguments = ["--input-paths", scenario.input + "*", "--enrich-file-key", ""] }
        // 1 KiB lines: 5 MB on each side of the rotation, several turns of the fair reads.
        let writer = LogWriter(path: scenario.input, padding: 900)
        let shipped = try restartAcross(.renameAndCreate, scenario, writer, shipped: 10_000, appended: 5_000, afterwards: 5_000)
        #expect(shipped.count == 20_000)
        #expect(shipped == Array(0..<20_000), "first out of order at \(String(describing: zip(shipped, 0...).first { $0 != $1 }))")
    }

    @Test("a file deleted while stopped: the restart forgets its checkpoint entry instead of carrying it on")
    func deletedWhileStopped() throws {
        let scenario = Scenario()
        let logs = scenario.directory.file("logs")
        scenario.inputArguments = ["--input-paths", logs + "/*.log"]
        let kept = LogWriter(path: logs + "/kept.log")
        let doomed = LogWriter(path: logs + "/doomed.log")
        kept.write(count: 100)
        doomed.write(count: 100)
        let first = try scenario.start()
        try scenario.waitForShipped(200)
        try waitUntil("both files in the checkpoint") {
            let text = (try? String(contentsOfFile: scenario.checkpoint, encoding: .utf8)) ?? ""
            return text.contains("kept.log") && text.contains("doomed.log")
        }
        #expect(try first.stop() == 0)
        #expect(unlink(doomed.path) == 0)
        let second = try scenario.start()
        kept.write(count: 100)
        try scenario.waitForShipped(300)
        #expect(try second.stop() == 0)
        let checkpoint = try String(contentsOfFile: scenario.checkpoint, encoding: .utf8)
        #expect(checkpoint.contains("kept.log") && !checkpoint.contains("doomed.log"), "\(checkpoint)")
        #expect(second.stderr.contains("checkpointed file not found"))
    }

    @Test("a copytruncate while stopped: the rest comes from the copy, then the new content")
    func copyTruncateWhileStopped() throws {
        let scenario = Scenario()
        let shipped = try restartAcross(.copyTruncate, scenario, LogWriter(path: scenario.input), shipped: 1000, appended: 500, afterwards: 200)
        #expect(shipped == Array(0..<1700))
    }

    @Test("SIGTERM right after the writer exits: every line is shipped and the exit code is 0")
    func nativeSidecarStopOrder() throws {
        let scenario = Scenario()
        let daemon = try scenario.start()
        let writer = LogWriter(path: scenario.input)
        for _ in 0..<20 { writer.write(count: 1000) }
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
        #expect(scenario.shipped == Array(0..<20_000))
    }

    @Test("a last line without newline is shipped at shutdown, flagged partial, once the file is quiet")
    func partialLineAtShutdown() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 3)
        writer.writeRaw("{\"seq\":3,\"msg\":\"no newline\"}")
        let daemon = try scenario.start()
        try scenario.waitForShipped(3)
        #expect(try daemon.stop() == 0)
        let lines = Output.lines(scenario.output)
        #expect(lines.count == 4)
        #expect(lines.last == "{\"seq\":3,\"msg\":\"no newline\",\"partial\":true}")
    }
}
