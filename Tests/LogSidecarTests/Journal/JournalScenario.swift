import Foundation
import Testing

/// A scenario script run beside a real, private systemd-journald (Fixtures/journal-scenario.sh), as
/// root in a mount namespace of its own; what it leaves in its directory is what a test checks.
struct JournalScenario {
    let directory: TestDirectory

    init(_ name: String = #function) { directory = TestDirectory(name) }

    /// A scenario whose reader takes the entries of identifier `app`, with its health server on a free
    /// port (returned).
    static func app(_ name: String = #function) -> (JournalScenario, port: Int) {
        let scenario = JournalScenario(name)
        let port = HTTPClient.freePort()
        scenario.writeConfig(#"{"matches": ["SYSLOG_IDENTIFIER=app"]}"#, healthPort: port)
        return (scenario, port)
    }

    static var harness: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/journal-scenario.sh").path
    }

    var work: String { directory.path }
    var output: String { directory.file("out.jsonl") }

    /// The reading daemon's configuration: `journald` is the `input.journald` object; records go to
    /// `out.jsonl` without enrichment fields.
    func writeConfig(_ journald: String, name: String = "reader.json", input: String = "", healthPort: Int = 0, output: String? = nil) {
        directory.write(
            name,
            """
            {"input": {"journald": \(journald), "checkpoint_path": "\(directory.file("state/checkpoint.json"))",
                       "checkpoint_interval_ms": 200\(input)},
             "enrich": {"host_field": "", "timestamp_field": ""},
             "health": {"port": \(healthPort), "address": "127.0.0.1"},
             "sinks": [{"type": "file", "path": "\(output ?? self.output)", "max_bytes": 1099511627776}]}
            """)
    }

    /// Runs `script` (bash, sourced by the harness); returns its exit status. Its stderr is kept in
    /// `harness.log`.
    func run(_ script: String, seconds: Double = 170) throws -> Int32 {
        directory.write("scenario.sh", script)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["--mount", "--propagation", "private", Self.harness, work, directory.file("scenario.sh")]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LOG_SIDECAR_") }
        environment["BINARY"] = DaemonProcess.binary
        process.environment = environment
        _ = FileManager.default.createFile(atPath: directory.file("harness.log"), contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: directory.file("harness.log")) ?? FileHandle.nullDevice
        process.standardError = process.standardOutput
        try process.run()
        try waitUntil("the journal scenario", seconds: seconds) { !process.isRunning }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Why a run failed: the harness's and the daemons' logs.
    var logs: String {
        ["harness.log", "reader.log", "sender.log"].map { "\($0): " + directory.read($0).suffix(3000) }.joined(separator: "\n")
    }

    func records(_ file: String = "out.jsonl") throws -> [[String: Any]] {
        try Output.lines(directory.file(file)).map { try Output.object($0) }
    }

    /// A `journalctl -o json` dump the scenario wrote.
    func journal(_ file: String) throws -> [[String: Any]] {
        try Output.lines(directory.file(file)).map { try Output.object($0) }
    }

    /// What a record and journalctl's entry must agree on: the message, the sender and its pid, the
    /// level and the time (the sender's own, else journald's), as text.
    static func key(record: [String: Any]) -> String {
        "\(record["SYSLOG_IDENTIFIER"] ?? "")|\(record["_PID"] ?? "")|\(record["message"] ?? "")|\(record["level"] ?? "")|\(record["time"] ?? "")"
    }

    static let levels = ["emerg", "alert", "critical", "error", "warning", "notice", "info", "debug"]

    static func key(entry: [String: Any]) -> String {
        let level = (entry["PRIORITY"] as? String).flatMap(Int.init).map { levels[$0] } ?? ""
        let usec =
            (entry["_SOURCE_REALTIME_TIMESTAMP"] as? String).flatMap(UInt64.init) ?? (entry["__REALTIME_TIMESTAMP"] as? String).flatMap(UInt64.init)
            ?? 0
        return "\(entry["SYSLOG_IDENTIFIER"] ?? "")|\(entry["_PID"] ?? "")|\(entry["MESSAGE"] ?? "")|\(level)|\(rfc3339(usec))"
    }

    static func rfc3339(_ usec: UInt64) -> String {
        var time = time_t(usec / 1_000_000)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour),
            Int(parts.tm_min), Int(parts.tm_sec), Int(usec % 1_000_000))
    }
}
