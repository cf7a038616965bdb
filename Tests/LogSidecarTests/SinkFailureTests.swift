import Foundation
import Testing

/// Sinks that fail or stall never cost a line: the file on disk is the buffer.
@Suite("Sink failures")
struct SinkFailureTests {
    @Test(
        "a file sink on a 1 MiB tmpfs that fills up: reading pauses, /healthz 503, all delivered exactly once when space is freed",
        .enabled(if: getuid() == 0, "needs root to mount a tmpfs"))
    func fullDisk() throws {
        let scenario = Scenario()
        let disk = try SmallVolume(in: scenario.directory)
        defer { withExtendedLifetime(disk) {} }
        let volume = disk.path
        let filler = volume + "/filler"
        #expect(Self.shell("dd if=/dev/zero of='\(filler)' bs=64k count=14 2>/dev/null") == 0)  // 0.875 of 1 MiB
        LogWriter(path: scenario.input).write(count: 5_000)  // about 500 KB of records
        let port = HTTPClient.freePort()
        let shipped = volume + "/out/app.jsonl"
        let daemon = try scenario.start([
            "--health-address", "127.0.0.1", "--health-port", "\(port)", "--sinks", "file:\(shipped)",
            "--health-sink-failure-timeout-ms", "200",
        ])
        try waitUntil("the sink errors to show") {
            guard let metrics = HTTPClient.get(port: port, "/metrics")?.body else { return false }
            return !metrics.contains("log_sidecar_sink_errors_total{sink=\"file\"} 0\n") && metrics.contains("sink_errors_total")
        }
        try waitUntil("/healthz to report the failing sink") { HTTPClient.get(port: port, "/healthz")?.status == 503 }
        #expect(HTTPClient.get(port: port, "/healthz")?.body.contains("No space left on device") == true)
        #expect(Output.sequenceNumbers(shipped).count < 5_000)
        // Reading pauses while the sink fails: the lag stays, nothing is read past the failing batch.
        let health = try Output.object(Substring(try #require(HTTPClient.get(port: port, "/health")).body))
        #expect((health["lag_bytes"] as? Int ?? 0) > 0)
        try FileManager.default.removeItem(atPath: filler)
        try waitUntil("every record in the file sink") { Output.lines(shipped).count >= 5_000 }
        try waitUntil("/healthz to recover") { HTTPClient.get(port: port, "/healthz")?.status == 200 }
        #expect(try daemon.stop() == 0)
        #expect(Output.sequenceNumbers(shipped) == Array(0..<5_000))
        print("full disk: 5000 written, \(Output.sequenceNumbers(shipped).count) shipped exactly once")
    }

    @Test(
        "disk full, the operator deletes the output and sends SIGHUP: the sink lets go of it, space comes back, whole records follow",
        .enabled(if: getuid() == 0, "needs root to mount a tmpfs"))
    func deletedOutputReopened() throws {
        let scenario = Scenario()
        let disk = try SmallVolume(in: scenario.directory)
        defer { withExtendedLifetime(disk) {} }
        let volume = disk.path
        LogWriter(path: scenario.input).write(count: 14_000)  // about 1.4 MB: more than the volume holds
        let port = HTTPClient.freePort()
        let shipped = volume + "/app.jsonl"
        let daemon = try scenario.start(["--health-address", "127.0.0.1", "--health-port", "\(port)", "--sinks", "file:\(shipped)"])
        try waitUntil("the disk to fill") { HTTPClient.get(port: port, "/health")?.body.contains("No space left on device") == true }
        let before = Output.sequenceNumbers(shipped)
        // Deleting a file the daemon still holds frees nothing: only the reopen does.
        #expect(unlink(shipped) == 0)
        daemon.signal(SIGHUP)
        try waitUntil("the rest in a new file") { Output.sequenceNumbers(shipped).last == 13_999 }
        #expect(try daemon.stop() == 0)
        let after = Output.sequenceNumbers(shipped)
        #expect(Output.lines(shipped).count == after.count, "every line of the new file is a whole record")
        #expect(after == Array((after.first ?? 0)..<14_000))
        #expect((after.first ?? 0) <= (before.last ?? 0) + 1, "nothing between the old file and the new one is missing")
    }

    @Test("stdout into a pipe nobody reads for 5 s: nothing lost, memory bounded")
    func stalledStdout() throws {
        let scenario = Scenario()
        LogWriter(path: scenario.input).write(count: 100_000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonProcess.binary)
        process.arguments = scenario.arguments()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let start = Date()
        // The daemon fills the pipe and waits for its reader.
        try waitUntil("5 s with an unread pipe", seconds: 10, every: 0.25) { Date().timeIntervalSince(start) >= 5 && process.isRunning }
        let peak = DaemonProcess.peakRSS(pid: process.processIdentifier)
        var received = Data()
        let reader = pipe.fileHandleForReading
        var lines = 0
        while lines < 100_000 {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            received.append(chunk)
            lines += chunk.filter { $0 == 0x0A }.count
        }
        process.terminate()
        received.append(reader.readDataToEndOfFile())
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let text = String(decoding: received, as: UTF8.self)
        let numbers = text.split(separator: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: "\"seq\":") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(numbers == Array(0..<100_000))
        #expect(peak > 0 && peak < 24 * 1024 * 1024, "peak RSS \(peak)")
        print("stalled stdout: peak RSS \(peak / 1024) KiB while the pipe was full")
    }

    @discardableResult
    static func shell(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try? process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
