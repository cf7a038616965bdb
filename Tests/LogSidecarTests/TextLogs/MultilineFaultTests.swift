import Foundation
import Testing

/// Multiline records under the faults its peers' trackers list: a trace written slowly, a quiet file,
/// `kill -9` with a record pending, rotation in the middle of a trace, two files interleaving, a trace
/// longer than `max_lines`. Every record is checked whole: its lines all carry its number.
@Suite("Multiline records under faults")
struct MultilineFaultTests {
    /// A log line and a Java trace of `frames` frames, every line naming `id`.
    static func trace(_ id: Int, frames: Int = 6) -> [String] {
        ["2026-12-02 10:00:00.000 SEVERE app request \(id) failed", "java.lang.IllegalStateException: failure \(id)"]
            + (0..<frames).map { "\tat app.Worker.step\(id)x\($0)(Worker.java:\($0 + 1))" } + [
                "Caused by: java.io.IOException: disk \(id)", "\t... \(frames) more",
            ]
    }

    static func plain(_ id: Int) -> String { "2026-12-02 10:00:00.000 INFO app request \(id) served" }

    /// Follows `paths` as text with the java preset (and `multiline` extra keys), shipping to the
    /// scenario's output.
    func start(_ scenario: Scenario, paths: [String], multiline: [String: Any] = [:], extra: [String] = []) throws -> DaemonProcess {
        let config = scenario.directory.file("config.json")
        var settings: [String: Any] = ["preset": "java"]
        settings.merge(multiline) { $1 }
        let entries = paths.map { ["path": $0, "format": "text", "multiline": settings] as [String: Any] }
        try JSONSerialization.data(withJSONObject: ["input": ["paths": entries]]).write(to: URL(fileURLWithPath: config))
        scenario.inputArguments = ["--config", config]
        return try scenario.start(extra)
    }

    static func messages(_ scenario: Scenario) throws -> [String] {
        try Output.lines(scenario.output).map { try Output.object($0)["message"] as? String ?? "" }
    }

    /// The record's number when every line of it carries the same one and it is a whole trace or a plain line.
    static func wholeRecord(_ message: String) -> Int? {
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first, let idText = first.split(separator: " ").dropFirst(5).first, let id = Int(idText) else { return nil }
        if lines.count == 1 { return first == plain(id) ? id : nil }
        return lines == trace(id) ? id : nil
    }

    @Test("a trace written in pieces 2 s apart is one record (timeout_ms 5000), and goes within timeout_ms and a poll of going quiet")
    func slowTraceAndQuiet() throws {
        let scenario = Scenario()
        let daemon = try start(scenario, paths: [scenario.input], multiline: ["timeout_ms": 5000])
        defer { _ = try? daemon.stop() }
        let trace = Self.trace(1)
        scenario.directory.append("logs/app.log", Self.plain(0) + "\n" + trace[..<4].joined(separator: "\n") + "\n")
        try waitUntil("the plain line") { Output.lines(scenario.output).count >= 1 }
        Thread.sleep(forTimeInterval: 2)  // the point of the test: a writer that pauses between two pieces
        scenario.directory.append("logs/app.log", trace[4...].joined(separator: "\n") + "\n")
        let quietFrom = Date()
        try waitUntil("the trace", seconds: 20) { Output.lines(scenario.output).count >= 2 }
        let waited = Date().timeIntervalSince(quietFrom)
        #expect(try Self.messages(scenario) == [Self.plain(0), trace.joined(separator: "\n")])
        #expect(waited >= 4.5 && waited < 5 + 0.2 + 1.5, "shipped \(waited) s after the file went quiet")
    }

    @Test("kill -9 at 20 random points of a stream of traces: after the restarts every record is whole and none is missing")
    func killNine() throws {
        let scenario = Scenario()
        var written = 0
        var daemon = try start(scenario, paths: [scenario.input], multiline: ["timeout_ms": 300])
        for _ in 0..<20 {
            let until = Date().addingTimeInterval(Double.random(in: 0.1...0.6))
            while Date() < until {
                var text = ""
                for _ in 0..<20 {
                    text += (written % 3 == 0 ? Self.trace(written) : [Self.plain(written)]).joined(separator: "\n") + "\n"
                    written += 1
                }
                // Sometimes a record is left half-written when the kill comes.
                let cut = Bool.random() ? text.count : text.count - Int.random(in: 1...40)
                scenario.directory.append("logs/app.log", String(text.prefix(cut)))
                if cut < text.count {
                    Thread.sleep(forTimeInterval: 0.01)
                    scenario.directory.append("logs/app.log", String(text.dropFirst(cut)))
                }
            }
            daemon.signal(SIGKILL)
            _ = try daemon.waitForExit()
            daemon = try start(scenario, paths: [scenario.input], multiline: ["timeout_ms": 300])
        }
        defer { _ = try? daemon.stop() }
        try waitUntil("every record", seconds: 60) { Set(try Self.messages(scenario).compactMap(Self.wholeRecord)).count >= written }
        let messages = try Self.messages(scenario)
        let broken = messages.filter { Self.wholeRecord($0) == nil }
        #expect(broken.isEmpty, "\(broken.count) records not whole, first: \(broken.first ?? "")")
        #expect(Set(messages.compactMap(Self.wholeRecord)) == Set(0..<written))
        print("kill -9 × 20: \(written) records, \(messages.count) shipped (\(messages.count - written) again after a kill)")
    }

    @Test("rotation in the middle of a trace: the trace is completed from its own file, the new file's lines stay apart")
    func rotationMidTrace() throws {
        let scenario = Scenario()
        let daemon = try start(scenario, paths: [scenario.input], extra: ["--input-rotate-wait-ms", "3000"])
        defer { _ = try? daemon.stop() }
        let writer = open(scenario.input, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        #expect(writer >= 0)
        defer { close(writer) }
        func write(_ fd: Int32, _ text: String) { _ = Array(text.utf8).withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) } }
        let trace = Self.trace(7)
        write(writer, Self.plain(6) + "\n" + trace[..<5].joined(separator: "\n") + "\n")
        try waitUntil("the first line") { Output.lines(scenario.output).count >= 1 }
        #expect(rename(scenario.input, scenario.input + ".1") == 0)
        scenario.directory.write("logs/app.log", "\tat not.part.of.the.trace(New.java:1)\n" + Self.plain(8) + "\n")
        // The old writer finishes its trace in the rotated file.
        write(writer, trace[5...].joined(separator: "\n") + "\n")
        try waitUntil("three records", seconds: 20) { Output.lines(scenario.output).count >= 4 }
        let messages = try Self.messages(scenario)
        #expect(messages.contains(trace.joined(separator: "\n")))
        #expect(messages.contains("\tat not.part.of.the.trace(New.java:1)"))
        #expect(messages.contains(Self.plain(8)))
    }

    @Test("two files writing traces line by line in turn: every record comes from one file, whole")
    func interleaved() throws {
        let scenario = Scenario()
        let first = scenario.directory.file("logs/a.log")
        let second = scenario.directory.file("logs/b.log")
        let daemon = try start(scenario, paths: [scenario.directory.file("logs/*.log")])
        defer { _ = try? daemon.stop() }
        for round in 0..<50 {
            let a = Self.trace(round * 2)
            let b = Self.trace(round * 2 + 1)
            for (lineA, lineB) in zip(a, b) {
                scenario.directory.append("logs/a.log", lineA + "\n")
                scenario.directory.append("logs/b.log", lineB + "\n")
            }
        }
        try waitUntil("100 traces", seconds: 30) { Output.lines(scenario.output).count >= 100 }
        let records = try Output.lines(scenario.output).map { try Output.object($0) }
        for record in records {
            let message = record["message"] as? String ?? ""
            let id = try #require(Self.wholeRecord(message), "not whole: \(message)")
            #expect((record["file"] as? String) == (id % 2 == 0 ? first : second))
        }
        #expect(Set(records.compactMap { Self.wholeRecord($0["message"] as? String ?? "") }) == Set(0..<100))
    }

    @Test("max_lines: a 60-line trace is cut at 10 lines and flagged; the rest is skipped, the next record whole")
    func maxLines() throws {
        let scenario = Scenario()
        let daemon = try start(scenario, paths: [scenario.input], multiline: ["max_lines": 10])
        defer { _ = try? daemon.stop() }
        let long = Self.trace(1, frames: 56)
        scenario.directory.append("logs/app.log", long.joined(separator: "\n") + "\n" + Self.trace(2).joined(separator: "\n") + "\n")
        try waitUntil("two records", seconds: 20) { Output.lines(scenario.output).count >= 2 }
        let records = try Output.lines(scenario.output).map { try Output.object($0) }
        #expect(records[0]["message"] as? String == long.prefix(10).joined(separator: "\n"))
        #expect(records[0]["truncated"] as? Bool == true)
        #expect(records[0]["original_bytes"] as? Int == long.joined(separator: "\n").utf8.count)
        #expect(records[1]["message"] as? String == Self.trace(2).joined(separator: "\n"))
        #expect(records[1]["truncated"] == nil)
    }
}
