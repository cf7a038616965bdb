import Foundation
import Testing

/// One daemon, many files: globs, rotations per file, discovery after start, the descriptor budget.
@Suite("Many files")
struct ManyFilesTests {
    /// Every output record's `file` and `seq`, grouped by file in output order.
    static func sequences(_ output: String) throws -> [String: [Int]] {
        var byFile: [String: [Int]] = [:]
        for line in Output.lines(output) {
            let record = try Output.object(line)
            let file = record["file"] as? String ?? "<none>"
            byFile[file, default: []].append(record["seq"] as? Int ?? -1)
        }
        return byFile
    }

    static func expectExactlyOnceInOrder(_ byFile: [String: [Int]], _ expected: [String: Int], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Set(byFile.keys) == Set(expected.keys), "files in the output", sourceLocation: sourceLocation)
        for (file, count) in expected {
            let got = byFile[file] ?? []
            #expect(
                got == Array(0..<count),
                "\(file): \(got.count) records of \(count), first wrong at \(String(describing: zip(got, 0..<count).first { $0 != $1 }))",
                sourceLocation: sourceLocation)
        }
    }

    static func openPaths(_ pid: Int32) -> [String] {
        let fds = "/proc/\(pid)/fd"
        return ((try? FileManager.default.contentsOfDirectory(atPath: fds)) ?? []).compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: fds + "/" + $0)
        }
    }

    @Test("50 files under *.log, 10 written at 500 lines/s for 10 s and each rotated twice: every line once, in order, with its file")
    func fiftyFiles() throws {
        let scenario = Scenario()
        let logs = scenario.directory.file("logs")
        scenario.inputArguments = ["--input-paths", logs + "/*.log"]
        let quiet = (10..<50).map { LogWriter(path: "\(logs)/quiet\($0).log") }
        for writer in quiet { writer.write(count: 5) }
        let daemon = try scenario.start()
        let busy = (0..<10).map { LogWriter(path: "\(logs)/busy\($0).log") }
        DispatchQueue.concurrentPerform(iterations: busy.count) { index in
            busy[index].run(rate: 500, seconds: 10, rotation: .renameAndCreate, rotateEvery: 3.5)
        }
        let total = (busy + quiet).reduce(0) { $0 + $1.written }
        try scenario.waitForShipped(total)
        #expect(try daemon.stop() == 0)
        var expected: [String: Int] = [:]
        for writer in busy + quiet { expected[writer.path] = writer.written }
        Self.expectExactlyOnceInOrder(try Self.sequences(scenario.output), expected)
        #expect(busy.allSatisfy { $0.written == 5_000 })
    }

    @Test("app.log* also matches the rotated names: rename, copytruncate and a restart in between ship nothing twice")
    func globMatchesRotatedNames() throws {
        let scenario = Scenario()
        scenario.inputArguments = ["--input-paths", scenario.input + "*", "--enrich-file-key", ""]
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 1_000)
        var daemon = try scenario.start()
        try scenario.waitForShipped(1_000)
        writer.rotate(.renameAndCreate)  // app.log -> app.log.1, which the glob matches
        writer.write(count: 1_000)
        try scenario.waitForShipped(2_000)
        writer.rotate(.copyTruncate)  // app.log copied to app.log.2, then truncated
        writer.write(count: 1_000)
        try scenario.waitForShipped(3_000)
        #expect(try daemon.stop() == 0)
        // While stopped: another copytruncate and a rename, then more lines.
        writer.write(count: 500)
        writer.rotate(.copyTruncate)
        writer.write(count: 500)
        writer.rotate(.renameAndCreate)
        writer.write(count: 500)
        daemon = try scenario.start()
        try scenario.waitForShipped(writer.written)
        writer.rotate(.copyTruncate)
        writer.write(count: 500)
        try scenario.waitForShipped(writer.written)
        // Time for a duplicate to show: several polls and rotate waits.
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try daemon.stop() == 0)
        let audit = Output.audit(scenario.shipped, expected: writer.written)
        #expect(audit.missing.isEmpty, "missing \(audit.missing.count), first \(audit.missing.prefix(5))")
        #expect(audit.duplicates == 0, "\(audit.duplicates) duplicates")
        #expect(scenario.shipped.count == writer.written)
    }

    @Test(
        "files created after start, in an existing directory and in a new one, and a file that appeared while stopped, are read from their beginning")
    func discoveredLater() throws {
        let scenario = Scenario()
        let logs = scenario.directory.file("logs")
        let later = scenario.directory.file("later")
        scenario.inputArguments = ["--input-paths", "\(logs)/*.log,\(later)/*.log", "--input-read-from", "end"]
        let first = LogWriter(path: "\(logs)/first.log")
        first.write(count: 100)  // there at the first start with read_from end: skipped
        var daemon = try scenario.start()
        try waitUntil("the first discovery") { daemon.stderr.contains("following a new file") }
        let second = LogWriter(path: "\(logs)/second.log")
        second.write(count: 200)
        try FileManager.default.createDirectory(atPath: later, withIntermediateDirectories: true)
        let third = LogWriter(path: "\(later)/third.log")
        third.write(count: 300)
        try scenario.waitForShipped(500)
        try waitUntil("a checkpoint with both files") {
            ((try? String(contentsOfFile: scenario.checkpoint, encoding: .utf8)) ?? "").contains("third.log")
        }
        #expect(try daemon.stop() == 0)
        let fourth = LogWriter(path: "\(logs)/fourth.log")
        fourth.write(count: 400)
        daemon = try scenario.start()
        try scenario.waitForShipped(900)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try daemon.stop() == 0)
        Self.expectExactlyOnceInOrder(try Self.sequences(scenario.output), [second.path: 200, third.path: 300, fourth.path: 400])
    }

    @Test("an excluded file is never opened; text lines arrive as message")
    func excludeAndText() throws {
        let scenario = Scenario()
        let logs = scenario.directory.file("logs")
        scenario.inputArguments = ["--input-paths", "\(logs)/*", "--input-exclude", "*.gz,*/secret*", "--input-format", "text"]
        scenario.directory.write("logs/app.txt", "plain line one\n{\"looks\":\"like json\"}\nüñí \"quoted\"\n")
        scenario.directory.write("logs/old.gz", "compressed\n")
        scenario.directory.write("logs/secret.log", "password\n")
        let daemon = try scenario.start()
        try scenario.waitForShipped(3)
        let opened = Self.openPaths(daemon.pid)
        #expect(opened.contains { $0.hasSuffix("app.txt") })
        #expect(!opened.contains { $0.hasSuffix(".gz") || $0.contains("secret") }, "\(opened)")
        #expect(try daemon.stop() == 0)
        let records = try Output.lines(scenario.output).map(Output.object)
        #expect(records.map { $0["message"] as? String } == ["plain line one", "{\"looks\":\"like json\"}", "üñí \"quoted\""])
        #expect(records.allSatisfy { $0["parse_error"] == nil && $0["file"] as? String == "\(logs)/app.txt" })
        #expect(!daemon.stderr.contains("secret.log") && !daemon.stderr.contains("old.gz"))
    }

    @Test("one sidecar ships a JSON file and a text file, each in its own format (an entry of input.paths with a format)")
    func jsonAndTextFiles() throws {
        let scenario = Scenario()
        let logs = scenario.directory.file("logs")
        scenario.directory.write("config.json", #"{"input":{"paths":["\#(logs)/app.jsonl",{"path":"\#(logs)/*.txt","format":"text"}]}}"#)
        scenario.inputArguments = ["--config", scenario.directory.file("config.json")]
        scenario.directory.write("logs/app.jsonl", "{\"level\":\"info\",\"msg\":\"up\"}\n")
        scenario.directory.write("logs/error.txt", "panic: {not json}\n")
        let daemon = try scenario.start()
        try scenario.waitForShipped(2)
        #expect(try daemon.stop() == 0)
        let records = try Output.lines(scenario.output).map(Output.object)
        let byFile = Dictionary(uniqueKeysWithValues: records.map { ($0["file"] as? String ?? "", $0) })
        #expect(byFile["\(logs)/app.jsonl"]?["msg"] as? String == "up")
        #expect(byFile["\(logs)/error.txt"]?["message"] as? String == "panic: {not json}")
        #expect(records.allSatisfy { $0["parse_error"] == nil })
        let checked = try DaemonProcess.run(["--config", scenario.directory.file("config.json"), "--check-config"])
        #expect(checked.stdout.contains("\"format\": \"text\""), "the entry's format in the effective configuration")
    }

    @Test("1,200 matching files with max_open_files 1,000: all shipped, never more open, the wait counted")
    func descriptorBudget() throws {
        let scenario = Scenario()
        let logs = scenario.directory.file("logs")
        scenario.inputArguments = ["--input-paths", "\(logs)/*.log", "--input-max-open-files", "1000"]
        let writers = (0..<1_200).map { LogWriter(path: "\(logs)/f\($0).log") }
        for writer in writers { writer.write(count: 3) }
        let port = HTTPClient.freePort()
        let daemon = try scenario.start(["--health-address", "127.0.0.1", "--health-port", "\(port)"])
        var mostOpen = 0
        try waitUntil("3,600 records", seconds: 60) {
            mostOpen = max(mostOpen, Self.openPaths(daemon.pid).filter { $0.hasPrefix(logs) }.count)
            return Output.lines(scenario.output).count >= 3_600
        }
        let health = try Output.object(Substring(try #require(HTTPClient.get(port: port, "/health")).body))
        #expect(try daemon.stop() == 0)
        #expect(mostOpen <= 1_000, "\(mostOpen) input files open at once")
        #expect((health["files_waited"] as? Int ?? 0) >= 200, "\(health["files_waited"] ?? "none")")
        #expect((health["files"] as? [Any])?.count == 100)
        var expected: [String: Int] = [:]
        for writer in writers { expected[writer.path] = 3 }
        Self.expectExactlyOnceInOrder(try Self.sequences(scenario.output), expected)
    }

    @Test("a file deleted while followed is closed once drained, so its space is freed")
    func deletedFileClosed() throws {
        let scenario = Scenario()
        let logs = scenario.directory.file("logs")
        scenario.inputArguments = ["--input-paths", "\(logs)/*.log"]
        let doomed = LogWriter(path: "\(logs)/doomed.log")
        doomed.write(count: 1_000)
        let daemon = try scenario.start()
        try scenario.waitForShipped(1_000)
        #expect(Self.openPaths(daemon.pid).contains { $0.hasSuffix("doomed.log") })
        #expect(unlink(doomed.path) == 0)
        try waitUntil("the deleted file to be closed", seconds: 10) {
            !Self.openPaths(daemon.pid).contains { $0.contains("doomed.log") }
        }
        #expect(try daemon.stop() == 0)
        #expect(scenario.shipped == Array(0..<1_000))
        #expect(!((try? String(contentsOfFile: scenario.checkpoint, encoding: .utf8)) ?? "").contains("doomed"), "its entry is dropped")
    }

    @Test("kill -9 in the middle of 20 busy files, restart: nothing lost, duplicates within a checkpoint interval")
    func killedAmongTwentyFiles() throws {
        let scenario = Scenario()
        let logs = scenario.directory.file("logs")
        scenario.inputArguments = ["--input-paths", "\(logs)/*.log"]
        let writers = (0..<20).map { LogWriter(path: "\(logs)/w\($0).log") }
        var daemon = try scenario.start()
        let pid = daemon.pid
        let killer = Thread {
            Thread.sleep(forTimeInterval: 2)
            kill(pid, SIGKILL)
        }
        killer.start()
        DispatchQueue.concurrentPerform(iterations: writers.count) { writers[$0].run(rate: 500, seconds: 4, rotation: .none) }
        _ = try daemon.waitForExit()
        daemon = try scenario.start()
        let total = writers.reduce(0) { $0 + $1.written }
        try waitUntil("every line") {
            let byFile = (try? Self.sequences(scenario.output)) ?? [:]
            return writers.allSatisfy { Set(byFile[$0.path] ?? []).count == $0.written }
        }
        #expect(try daemon.stop() == 0)
        let byFile = try Self.sequences(scenario.output)
        for writer in writers {
            let got = byFile[writer.path] ?? []
            #expect(Set(got) == Set(0..<writer.written), "\(writer.path): lines missing")
            // 200 ms of checkpoint interval at 500 lines/s is 100 lines; a batch in flight adds a little.
            #expect(got.count - writer.written <= 200, "\(writer.path): \(got.count - writer.written) duplicates")
        }
        print("kill -9 among 20 files: \(Output.lines(scenario.output).count - total) duplicates over \(total) lines")
    }
}
