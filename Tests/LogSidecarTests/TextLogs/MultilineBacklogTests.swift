import Foundation
import Testing

/// A backlog of traces read at full speed: the quiet timeout never cuts a record while its file still
/// has bytes, so no trace is split however the reads fall. The size is `LOG_SIDECAR_BACKLOG_MIB`
/// (128 in the test run; `Benchmarks/multiline.sh` reads 1 GiB and counts the same way).
@Suite("Multiline: a backlog read at full speed")
struct MultilineBacklogTests {
    static let script = MultilineRuntimeTests.fixtures + "/backlog.py"

    static func python(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("a backlog of log4j lines with a Java trace every 50 records: every record whole, in order, the count equal to the written one")
    func backlog() throws {
        let mib = Int(ProcessInfo.processInfo.environment["LOG_SIDECAR_BACKLOG_MIB"] ?? "") ?? 128
        let scenario = Scenario()
        let count = try #require(Int(try Self.python(["write", scenario.input, String(mib)])))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: scenario.input)[.size] as? Int)
        // timeout_ms 50: far shorter than a read of the backlog takes, so a timeout that ran while
        // bytes remain would cut traces.
        try JSONSerialization.data(withJSONObject: [
            "input": ["paths": [["path": scenario.input, "format": "text", "multiline": ["preset": "java", "timeout_ms": 50]]]]
        ]).write(to: URL(fileURLWithPath: scenario.directory.file("config.json")))
        scenario.inputArguments = ["--config", scenario.directory.file("config.json")]
        let daemon = try scenario.start()
        try waitUntil("the backlog acknowledged", seconds: 300) { Output.checkpointOffset(scenario.checkpoint) == size }
        #expect(try daemon.stop() == 0)
        let summary = try JSONSerialization.jsonObject(with: Data(try Self.python(["check", scenario.output, String(count)]).utf8)) as? [String: Any]
        #expect(summary?["bad"] as? [Any] == nil || (summary?["bad"] as? [Any])?.isEmpty == true, "\(summary ?? [:])")
        #expect(summary?["records"] as? Int == count)
        #expect(summary?["complete"] as? Bool == true)
        try? FileManager.default.removeItem(atPath: scenario.output)
        try? FileManager.default.removeItem(atPath: scenario.input)
    }
}
