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

    @Test("a rotation while stopped: the old file's rest first, then the new file, nothing missing")
    func rotationWhileStopped() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 1000)
        let first = try scenario.start()
        try scenario.waitForShipped(1000)
        #expect(try first.stop() == 0)
        writer.write(count: 500)  // after the stop, into the file about to be rotated
        writer.rotate(.renameAndCreate)
        writer.write(count: 500)
        let second = try scenario.start()
        try scenario.waitForShipped(2000)
        #expect(try second.stop() == 0)
        #expect(scenario.shipped == Array(0..<2000))
    }

    @Test(
        "10,000 lines of 1 KiB shipped, then while stopped 5,000 more, a rename and 5,000 into a new file: all 20,000 in order",
        arguments: [false, true])
    func largeRotationWhileStopped(globMatchesRotated: Bool) throws {
        let scenario = Scenario("largeRotationWhileStopped\(globMatchesRotated)")
        if globMatchesRotated { scenario.inputArguments = ["--input-paths", scenario.input + "*", "--enrich-file-key", ""] }
        // 1 KiB lines: 5 MB on each side of the rotation, several turns of the fair reads.
        let writer = LogWriter(path: scenario.input, padding: 900)
        writer.write(count: 10_000)
        let first = try scenario.start()
        try scenario.waitForShipped(10_000)
        #expect(try first.stop() == 0)
        writer.write(count: 5_000)
        writer.rotate(.renameAndCreate)
        writer.write(count: 5_000)
        let second = try scenario.start()
        try scenario.waitForShipped(20_000)
        #expect(try second.stop() == 0)
        let shipped = scenario.shipped
        #expect(shipped.count == 20_000)
        #expect(shipped == Array(0..<20_000), "first out of order at \(String(describing: zip(shipped, 0...).first { $0 != $1 }))")
    }

    @Test("a copytruncate while stopped: the rest comes from the copy, then the new content")
    func copyTruncateWhileStopped() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 1000)
        let first = try scenario.start()
        try scenario.waitForShipped(1000)
        #expect(try first.stop() == 0)
        writer.write(count: 500)
        writer.rotate(.copyTruncate)
        writer.write(count: 200)
        let second = try scenario.start()
        try scenario.waitForShipped(1700)
        #expect(try second.stop() == 0)
        #expect(scenario.shipped == Array(0..<1700))
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
