import Foundation
import Testing

/// What the checkpoint claims is on disk: a failed fsync or a vanished reader ends the run with exit 1
/// and the checkpoint where it was, so the restart replays.
@Suite("Faults: durability")
struct DurabilityTests {
    /// A FUSE mount over a backing directory whose fsync fails with EIO while `flag` exists.
    final class FailingDisk {
        let mountpoint: String
        let flag: String
        let log: String
        let process = Process()

        init(_ directory: TestDirectory) throws {
            let backing = directory.file("backing")
            mountpoint = directory.file("disk")
            flag = directory.file("fail-fsync")
            log = directory.file("fs.log")
            for path in [backing, mountpoint] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fixtures/failing-fsync-fs.py").path
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script, backing, mountpoint, flag, log]
            process.standardError = FileHandle.nullDevice
            try process.run()
            try waitUntil("the FUSE mount") {
                ((try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? "").contains(" \(mountpoint) fuse")
            }
        }

        func failFsync(_ on: Bool) {
            if on { _ = FileManager.default.createFile(atPath: flag, contents: nil) } else { try? FileManager.default.removeItem(atPath: flag) }
        }

        var operations: [String] { Output.lines(log).map(String.init) }

        deinit {
            _ = SinkFailureTests.shell("umount -l '\(mountpoint)'")
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    @Test(
        "fsync fails with EIO before a checkpoint: exit 1, checkpoint unmoved, the restart replays every line",
        .enabled(if: getuid() == 0, "needs root for a FUSE mount"))
    func fsyncEIO() throws {
        let scenario = Scenario()
        let disk = try FailingDisk(scenario.directory)
        defer { withExtendedLifetime(disk) {} }
        let shipped = disk.mountpoint + "/out/app.jsonl"
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 1_000)
        let daemon = try scenario.start(["--sinks", "file:\(shipped)"])
        let firstSize = try #require(try FileManager.default.attributesOfItem(atPath: scenario.input)[.size] as? Int)
        try waitUntil("the first checkpoint") { Output.checkpointOffset(scenario.checkpoint) == firstSize }
        disk.failFsync(true)
        writer.write(count: 1_000)
        #expect(try daemon.waitForExit() == 1)
        #expect(daemon.stderr.contains("fsync") && daemon.stderr.contains("Input/output error"), "stderr: \(daemon.stderr)")
        #expect(daemon.stderr.contains("exiting without moving the checkpoint"))
        #expect(Output.checkpointOffset(scenario.checkpoint) == firstSize, "the checkpoint stays before what was not synced")
        disk.failFsync(false)
        let second = try scenario.start(["--sinks", "file:\(shipped)"])
        try waitUntil("every line in the sink") { Set(Output.sequenceNumbers(shipped)).count == 2_000 }
        #expect(try second.stop() == 0)
        let audit = Output.audit(Output.sequenceNumbers(shipped), expected: 2_000)
        #expect(audit.missing.isEmpty)
        print("fsync EIO: 2000 written, \(2_000 - audit.missing.count) shipped, \(audit.missing.count) lost, \(audit.duplicates) repeated")
    }

    @Test(
        "the file sink syncs a file before it rotates it away or reopens it on SIGHUP",
        .enabled(if: getuid() == 0, "needs root for a FUSE mount"))
    func syncBeforeClose() throws {
        let scenario = Scenario()
        let disk = try FailingDisk(scenario.directory)
        defer { withExtendedLifetime(disk) {} }
        let sink = #"{"type":"file","path":"\#(disk.mountpoint)/app.jsonl","max_bytes":65536,"max_files":50}"#
        scenario.directory.write("config.json", #"{"sinks":[\#(sink)],"input":{"checkpoint_interval_ms":60000}}"#)
        LogWriter(path: scenario.input).write(count: 3_000)
        let daemon = try scenario.start(["--config", scenario.directory.file("config.json")])
        try waitUntil("a few rotations") { disk.operations.filter { $0.hasPrefix("rename /app.jsonl ") }.count >= 3 }
        daemon.signal(SIGHUP)
        try waitUntil("the reopen") { daemon.stderr.contains("SIGHUP") }
        LogWriter(path: scenario.input).write(count: 10)
        try waitUntil("a write after the reopen") { disk.operations.last?.hasPrefix("write") == true }
        var pendingWrite = false
        for operation in disk.operations {
            if operation == "write /app.jsonl" { pendingWrite = true }
            if operation == "fsync /app.jsonl" { pendingWrite = false }
            if operation.hasPrefix("rename /app.jsonl ") { #expect(!pendingWrite, "renamed with unsynced writes") }
        }
        let syncs = disk.operations.filter { $0 == "fsync /app.jsonl" }.count
        #expect(syncs >= 4, "one fsync per rotation and one at SIGHUP, with a checkpoint a minute away: \(syncs)")
        #expect(try daemon.stop() == 0)
    }

    @Test("stdout's reader goes away (EPIPE): exit 1 with a clear message, the restart ships the rest")
    func stdoutClosed() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 50_000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonProcess.binary)
        process.arguments = scenario.arguments()
        let pipe = Pipe()
        let errors = Pipe()
        process.standardOutput = pipe
        process.standardError = errors
        try process.run()
        // Read part of it, then go away as `| head` does.
        let received = pipe.fileHandleForReading.readData(ofLength: 1 << 20)
        try pipe.fileHandleForReading.close()
        try waitUntil("log-sidecar to exit") { !process.isRunning }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 1)
        #expect(stderr.contains("Broken pipe") && stderr.contains("reader of the output is gone"), "stderr: \(stderr)")
        let firstLines = String(decoding: received, as: UTF8.self).split(separator: "\n").dropLast().joined(separator: "\n")
        _ = FileManager.default.createFile(atPath: scenario.output, contents: Data((firstLines + "\n").utf8))
        let second = try scenario.start()
        try waitUntil("every line shipped") { Set(scenario.shipped).count == 50_000 }
        #expect(try second.stop() == 0)
        let audit = Output.audit(scenario.shipped, expected: 50_000)
        #expect(audit.missing.isEmpty)
        print("EPIPE: \(firstLines.split(separator: "\n").count) lines read before the reader left, \(audit.duplicates) repeated after restart")
    }
}
