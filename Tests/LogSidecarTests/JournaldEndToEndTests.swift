import Foundation
import Testing

/// A real systemd-journald in a private mount namespace (root only), read back with journalctl.
@Suite("journald sink", .enabled(if: getuid() == 0, "needs root for unshare --mount"))
struct JournaldEndToEndTests {
    static var harness: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/journald-harness.sh").path
    }

    /// Runs the daemon with `config` beside a private journald until `expect` entries arrived.
    func run(_ scenario: Scenario, config: String, expect: Int, restartAt: Int? = nil) throws -> (status: Int32, entries: [[String: Any]]) {
        scenario.directory.write("config.json", config)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = [
            "--mount", "--propagation", "private", Self.harness, scenario.directory.path, DaemonProcess.binary,
            "--config", scenario.directory.file("config.json"),
        ]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LOG_SIDECAR_") }
        environment["IDENTIFIER"] = "app"
        environment["EXPECT"] = String(expect)
        environment["HOSTNAME"] = "node-1"
        if let restartAt { environment["RESTART_AT"] = String(restartAt) }
        process.environment = environment
        process.standardOutput = FileHandle(forWritingAtPath: scenario.output) ?? FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try waitUntil("the journald harness", seconds: 170) { !process.isRunning }
        process.waitUntilExit()
        let entries = try Output.lines(scenario.directory.file("journal.json")).map { try Output.object($0) }
        return (process.terminationStatus, entries)
    }

    func config(_ scenario: Scenario, sinks: String) -> String {
        """
        {"input": {"path": "\(scenario.input)", "checkpoint_path": "\(scenario.checkpoint)"},
         "health": {"port": 0},
         "sinks": [\(sinks)]}
        """
    }

    static let levels = ["debug", "info", "notice", "warning", "error", "fatal", "3"]
    static let priorities = ["7", "6", "5", "4", "3", "2", "3"]

    @Test("50,000 records in, the same count out, fields and priorities mapped")
    func fiftyThousand() throws {
        let scenario = Scenario()
        var text = ""
        for seq in 0..<50_000 {
            text +=
                "{\"seq\":\(seq),\"msg\":\"request \(seq) served\",\"level\":\"\(Self.levels[seq % 7])\",\"user.id\":\(seq % 100),\"tags\":[\"a\",\"b\"],\"ok\":true}\n"
        }
        scenario.directory.write("logs/app.log", text)
        let sink = #"{"type": "journald", "identifier": "app", "message_key": "msg", "level_key": "level"}"#
        let result = try run(scenario, config: config(scenario, sinks: sink), expect: 50_000)
        #expect(result.status == 0)
        #expect(result.entries.count == 50_000)
        for (seq, entry) in result.entries.enumerated() where seq % 97 == 0 || seq == 49_999 {
            #expect(entry["MESSAGE"] as? String == "request \(seq) served")
            #expect(entry["PRIORITY"] as? String == Self.priorities[seq % 7])
            #expect(entry["SYSLOG_IDENTIFIER"] as? String == "app")
            #expect(entry["SEQ"] as? String == String(seq))
            #expect(entry["USER_ID"] as? String == String(seq % 100))
            #expect(entry["TAGS"] as? String == #"["a","b"]"#)
            #expect(entry["OK"] as? String == "true")
            #expect(entry["HOST"] as? String == "node-1")
            #expect((entry["PROCESSED_AT"] as? String)?.hasSuffix("Z") == true)
            #expect(entry["MSG"] == nil && entry["LEVEL"] == nil)
        }
    }

    @Test("journald killed and restarted in the middle of 50,000 records: every record in the journal")
    func journaldRestarted() throws {
        let scenario = Scenario()
        var text = ""
        for seq in 0..<50_000 { text += "{\"seq\":\(seq),\"msg\":\"request \(seq) served\",\"pad\":\"\(String(repeating: "x", count: 100))\"}\n" }
        scenario.directory.write("logs/app.log", text)
        let sink = #"{"type": "journald", "identifier": "app"}"#
        let result = try run(scenario, config: config(scenario, sinks: sink), expect: 50_000, restartAt: 15_000)
        #expect(result.status == 0)
        #expect(scenario.directory.read("harness.log").contains("journald restarted"))
        let numbers = result.entries.compactMap { ($0["SEQ"] as? String).flatMap(Int.init) }
        let audit = Output.audit(numbers, expected: 50_000)
        #expect(audit.missing.isEmpty, "\(audit.missing.count) records lost, first \(audit.missing.prefix(5))")
        print("journald restart: \(numbers.count) entries for 50,000 records, \(audit.duplicates) duplicates, \(audit.missing.count) lost")
    }

    @Test("an entry larger than a datagram (600 KB) arrives whole, through a sealed memfd")
    func largeEntry() throws {
        let scenario = Scenario()
        let big = String(repeating: "0123456789", count: 60_000)
        scenario.directory.write(
            "logs/app.log", "{\"seq\":0,\"msg\":\"small\"}\n{\"seq\":1,\"msg\":\"\(big)\",\"multi\":\"a\\nb\"}\n{\"seq\":2,\"msg\":\"after\"}\n")
        let result = try run(scenario, config: config(scenario, sinks: #"{"type": "journald", "identifier": "app"}"#), expect: 3)
        #expect(result.status == 0)
        #expect(result.entries.compactMap { $0["SEQ"] as? String } == ["0", "1", "2"])
        #expect((result.entries.dropFirst().first?["MESSAGE"] as? String)?.count == big.count)
        #expect(result.entries.dropFirst().first?["MULTI"] as? String == "a\nb")
    }

    @Test("two sinks at once, file and journald: both receive every record")
    func fileAndJournald() throws {
        let scenario = Scenario()
        let shipped = scenario.directory.file("shipped/app.jsonl")
        LogWriter(path: scenario.input).write(count: 5_000)
        let sinks = #"{"type": "file", "path": "\#(shipped)"}, {"type": "journald", "identifier": "app"}"#
        let result = try run(scenario, config: config(scenario, sinks: sinks), expect: 5_000)
        #expect(result.status == 0)
        #expect(result.entries.count == 5_000)
        #expect(result.entries.compactMap { ($0["SEQ"] as? String).flatMap(Int.init) } == Array(0..<5_000))
        #expect(Output.sequenceNumbers(shipped) == Array(0..<5_000))
    }

    @Test("no journald socket: the journald sink reports a clear error and the daemon keeps running")
    func noJournald() throws {
        // A private mount namespace with an empty /run/systemd: no socket there.
        let scenario = Scenario()
        LogWriter(path: scenario.input).write(count: 10)
        let port = HTTPClient.freePort()
        scenario.directory.write(
            "config.json",
            """
            {"input": {"path": "\(scenario.input)", "checkpoint_path": "\(scenario.checkpoint)"},
             "health": {"address": "127.0.0.1", "port": \(port)}, "shutdown": {"drain_timeout_ms": 1000},
             "sinks": [{"type": "stdout"}, {"type": "journald", "identifier": "app"}]}
            """)
        let daemon = try DaemonProcess(
            arguments: [
                "/bin/sh", "-c", "mount -t tmpfs tmpfs /run/systemd && exec \"$0\" \"$@\"", DaemonProcess.binary,
                "--config", scenario.directory.file("config.json"),
            ],
            stdoutPath: scenario.output, executable: "/usr/bin/unshare", prefix: ["--mount", "--propagation", "private"])
        try waitUntil("the sink error to be counted") {
            HTTPClient.get(port: port, "/metrics")?.body.contains("log_sidecar_sink_errors_total{sink=\"journald\"} 0") == false
        }
        let health = try #require(HTTPClient.get(port: port, "/health"))
        #expect(health.body.contains("no journald socket"))
        #expect(Output.lines(scenario.output).count == 10)
        #expect(try daemon.stop() == 0)
        #expect(daemon.stderr.contains("sink failed"))
    }
}
