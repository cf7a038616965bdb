import Foundation
import Testing

/// Renames seen half-way: a directory listed while files move from name to name can show a file under
/// neither its old nor its new name. Identity (device, inode and fingerprint) must survive that.
@Suite("Rename cascades")
struct RenameCascadeTests {
    /// The real logrotate: `copytruncate` and `rotate 20` forced every 0.2 s while the writer appends
    /// 1,000 lines/s until it has run fifty times, so `app.log.1` … `app.log.20` shift fifty times
    /// (counted, not timed: on a loaded CI machine one logrotate run can take longer than 0.2 s). The
    /// writer waits while logrotate runs: lines written between its copy and its truncate are lost by
    /// copytruncate itself, for every tailer, and would hide what this test looks for.
    @Test("logrotate copytruncate with rotate 20, forced every 0.2 s under app.log*: every line once, in order")
    func logrotateCascades() throws {
        let scenario = Scenario()
        scenario.inputArguments = ["--input-paths", scenario.input + "*", "--enrich-file-key", ""]
        let configuration = scenario.directory.file("logrotate.conf")
        scenario.directory.write("logrotate.conf", "\(scenario.input) {\n  copytruncate\n  rotate 20\n  missingok\n  nocompress\n}\n")
        let state = scenario.directory.file("logrotate.state")
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 10)
        let daemon = try scenario.start()
        let start = Date()
        var nextRotation = 0.2
        var cascades = 0
        while cascades < 50 && Date().timeIntervalSince(start) < 60 {
            let elapsed = Date().timeIntervalSince(start)
            let due = 10 + Int(elapsed * 1_000)
            if due > writer.written { writer.write(count: due - writer.written) }
            if elapsed >= nextRotation {
                try Self.run("/usr/sbin/logrotate", ["-f", "-s", state, configuration])
                cascades += 1
                nextRotation += 0.2
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        try scenario.waitForShipped(writer.written)
        // Time for a duplicate to show: several polls and rotate waits.
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try daemon.stop() == 0)
        let shipped = scenario.shipped
        let audit = Output.audit(shipped, expected: writer.written)
        #expect(audit.missing.isEmpty, "missing \(audit.missing.count), first \(audit.missing.prefix(5))")
        #expect(audit.duplicates == 0, "\(audit.duplicates) duplicates over \(cascades) cascades")
        #expect(shipped == Array(0..<writer.written), "first out of order at \(String(describing: zip(shipped, 0...).first { $0 != $1 }))")
        #expect(cascades == 50, "logrotate ran \(cascades) times in 60 s")
    }

    /// Twenty files under one glob, each moved through a chain of ten names every 100 ms while it is
    /// written (the writer keeps its descriptor), and the daemon stopped and started again half-way.
    @Test("20 files renamed through 10 names every 100 ms while written, restart in the middle: every line once, in order per file")
    func renameChainsWithRestart() throws {
        let scenario = Scenario()
        let logs = scenario.directory.file("logs")
        scenario.inputArguments = ["--input-paths", logs + "/s*.log.*", "--enrich-file-key", ""]
        let files = (0..<20).map { ChainedFile(directory: logs, source: $0) }
        var daemon = try scenario.start()
        let start = Date()
        var nextRename = 0.1
        var restarted = false
        var stopping: DaemonProcess?
        while Date().timeIntervalSince(start) < 6 {
            let elapsed = Date().timeIntervalSince(start)
            for file in files { file.write(upTo: Int(elapsed * 200)) }
            if elapsed >= nextRename {
                for file in files { file.renameToNext() }
                nextRename += 0.1
            }
            if !restarted && elapsed >= 3 {
                daemon.signal(SIGTERM)
                stopping = daemon
                restarted = true
            }
            if let old = stopping, !old.process.isRunning || (try? old.waitForExit(seconds: 0)) != nil {
                #expect(try old.waitForExit() == 0)
                stopping = nil
                daemon = try scenario.start()
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        if let old = stopping {
            #expect(try old.waitForExit() == 0)
            daemon = try scenario.start()
        }
        for file in files { file.write(upTo: 1_200) }
        let total = files.reduce(0) { $0 + $1.written }
        try scenario.waitForShipped(total)
        Thread.sleep(forTimeInterval: 1)
        #expect(try daemon.stop() == 0)
        var bySource: [Int: [Int]] = [:]
        for line in Output.lines(scenario.output) {
            let record = try Output.object(line)
            bySource[record["src"] as? Int ?? -1, default: []].append(record["seq"] as? Int ?? -1)
        }
        #expect(Set(bySource.keys) == Set(0..<20))
        for file in files {
            let got = bySource[file.source] ?? []
            #expect(
                got == Array(0..<file.written),
                "file \(file.source): \(got.count) records of \(file.written), first wrong at \(String(describing: zip(got, 0...).first { $0 != $1 }))"
            )
        }
    }

    static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(executable) \(arguments)")
    }
}

/// A file that keeps its descriptor while it is renamed `s<source>.log.0` -> `.1` -> … -> `.9` -> `.0`.
final class ChainedFile {
    let source: Int
    private let directory: String
    private var link = 0
    private let fd: Int32
    private(set) var written = 0

    init(directory: String, source: Int) {
        self.directory = directory
        self.source = source
        fd = open("\(directory)/s\(source).log.0", O_WRONLY | O_APPEND | O_CREAT, 0o644)
        precondition(fd >= 0)
    }

    deinit { close(fd) }

    func write(upTo count: Int) {
        guard count > written else { return }
        let text = (written..<count).map { "{\"src\":\(source),\"seq\":\($0)}\n" }.joined()
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        precondition(n == bytes.count)
        written = count
    }

    func renameToNext() {
        let next = (link + 1) % 10
        precondition(rename("\(directory)/s\(source).log.\(link)", "\(directory)/s\(source).log.\(next)") == 0)
        link = next
    }
}
