import Foundation
import Testing

/// The real daemon against real files: what it wrote is compared line by line with what was written.
@Suite("Following a file through rotations")
struct FollowerEndToEndTests {
    @Test("200,000 lines already in the file are all shipped, in order")
    func catchUp() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        for _ in 0..<20 { writer.write(count: 10_000) }
        let daemon = try scenario.start()
        try scenario.waitForShipped(200_000)
        #expect(try daemon.stop() == 0)
        #expect(scenario.shipped == Array(0..<200_000))
        // With no enrichment fields the record is the application's line, byte for byte.
        #expect(Output.lines(scenario.output).first.map(String.init) == String(LogWriter.line(0).dropLast()))
    }

    @Test(
        "5,000 lines/s for 10 s through rotations: every line exactly once, in order",
        arguments: [LogWriter.Rotation.renameAndCreate, .copyTruncate, .deleteAndRecreate])
    func rotationUnderLoad(rotation: LogWriter.Rotation) throws {
        let scenario = Scenario("rotation\(rotation)")
        let daemon = try scenario.start()
        let writer = LogWriter(path: scenario.input)
        writer.run(rate: 5000, seconds: 10, rotation: rotation)
        try scenario.waitForShipped(writer.written)
        #expect(try daemon.stop() == 0)
        let shipped = scenario.shipped
        let audit = Output.audit(shipped, expected: writer.written)
        #expect(audit.missing.isEmpty, "missing \(audit.missing.count), first \(audit.missing.prefix(5))")
        #expect(audit.duplicates == 0)
        #expect(shipped == Array(0..<writer.written))
    }

    @Test("a file absent at start is followed once it is created")
    func fileAbsentAtStart() throws {
        let scenario = Scenario()
        let daemon = try scenario.start()
        try waitUntil("the daemon to start") { daemon.stderr.contains("waiting for the input file") }
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 100)
        try scenario.waitForShipped(100)
        #expect(try daemon.stop() == 0)
        #expect(scenario.shipped == Array(0..<100))
    }

    @Test("a directory absent at start is found by the stat poll once it exists")
    func directoryAbsentAtStart() throws {
        let scenario = Scenario()
        let nested = scenario.directory.file("later/deeper/app.log")
        let daemon = try DaemonProcess(
            arguments: scenario.arguments(["--input-path", nested]), stdoutPath: scenario.output)
        try waitUntil("the daemon to start") { daemon.stderr.contains("waiting for the input file") }
        try FileManager.default.createDirectory(atPath: scenario.directory.file("later/deeper"), withIntermediateDirectories: true)
        let writer = LogWriter(path: nested)
        writer.write(count: 50)
        try scenario.waitForShipped(50)
        writer.write(count: 50)
        try scenario.waitForShipped(100)
        #expect(try daemon.stop() == 0)
        #expect(scenario.shipped == Array(0..<100))
    }

    @Test("a line written in two halves 500 ms apart is one record")
    func lineInTwoHalves() throws {
        let scenario = Scenario()
        let daemon = try scenario.start()
        let writer = LogWriter(path: scenario.input)
        writer.writeRaw("{\"seq\":0,\"msg\":\"first ha")
        Thread.sleep(forTimeInterval: 0.5)  // the scenario itself: the writer pauses mid-line
        writer.writeRaw("lf and second half\"}\n")
        try scenario.waitForShipped(1)
        #expect(try daemon.stop() == 0)
        let lines = Output.lines(scenario.output)
        #expect(lines == ["{\"seq\":0,\"msg\":\"first half and second half\"}"])
    }

    @Test("a 5 MiB line between two normal lines: three records, the middle one cut, RSS under 32 MiB")
    func overlongLine() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 1)
        let long = "{\"seq\":1,\"blob\":\"" + String(repeating: "é", count: 5 * 1024 * 1024 / 2) + "\"}\n"
        writer.writeRaw(long)
        writer.write(count: 1)
        let daemon = try scenario.start(["--input-max-line-bytes", "1048576"])
        try scenario.waitForShipped(3)
        let peak = daemon.peakRSS
        #expect(try daemon.stop() == 0)
        let lines = Output.lines(scenario.output)
        #expect(lines.count == 3)
        let middle = try Output.object(lines[1])
        #expect(middle["truncated"] as? Bool == true)
        #expect(middle["original_bytes"] as? Int == long.utf8.count - 1)
        let message = try #require(middle["message"] as? String)
        #expect(message.utf8.count <= 1_048_576 && message.utf8.count > 1_048_576 - 4)
        #expect(try Output.object(lines[2])["seq"] as? Int == 1)
        #expect(peak > 0 && peak < 32 * 1024 * 1024, "peak RSS \(peak) bytes")
        print("overlong line: peak RSS \(peak / 1024) KiB")
    }
}
