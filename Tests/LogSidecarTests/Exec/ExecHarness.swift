import Foundation

/// A directory with child programs (Python scripts) and log-sidecar running one of them in exec mode,
/// its output captured in `out.jsonl`.
final class ExecHarness {
    let directory: TestDirectory
    let output: String
    var daemon: DaemonProcess?

    init(_ name: String = #function) {
        directory = TestDirectory(name)
        output = directory.file("out.jsonl")
    }

    /// Writes a Python program and returns its path.
    func script(_ name: String, _ source: String) -> String {
        directory.write(name, source)
        return directory.file(name)
    }

    /// Flags that keep records comparable: no host, no timestamp, no health port unless asked.
    static let plain = ["--enrich-host-field", "", "--enrich-timestamp-field", ""]

    @discardableResult
    func start(_ command: [String], flags: [String] = [], healthPort: Int = 0) throws -> DaemonProcess {
        let daemon = try DaemonProcess(
            arguments: Self.plain + ["--health-port", String(healthPort)] + flags + ["--"] + command, stdoutPath: output)
        self.daemon = daemon
        return daemon
    }

    /// Every shipped record, parsed.
    func records() throws -> [[String: Any]] { try Output.lines(output).map(Output.object) }

    func waitForRecords(_ count: Int, seconds: Double = 60) throws {
        try waitUntil("\(count) records (have \(Output.lines(output).count))", seconds: seconds) { Output.lines(output).count >= count }
    }

    /// The first record that has `key`.
    func first(_ key: String) throws -> [String: Any]? { try records().first { $0[key] != nil } }
}
