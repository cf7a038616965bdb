import Foundation
import Testing

/// Errors that persist are visible, cost no CPU, and lose nothing once they clear.
@Suite("Faults: persistent errors", .enabled(if: getuid() == 0, "needs root to run the daemon as another user"))
struct InputErrorTests {
    /// CPU seconds (user + system) the process has used so far.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // utime and stime are fields 14 and 15 of stat(5); fields here start at field 3.
        return Double((Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test("the input directory becomes unreadable while a rotated file drains: /healthz 503 with the error, no busy loop, all shipped after")
    func unreadableDirectory() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 1_000)
        let port = HTTPClient.freePort()
        let daemon = try OtherUser.start(
            scenario, uid: 61_002,
            [
                "--health-address", "127.0.0.1", "--health-port", "\(port)", "--health-stall-timeout-ms", "1000",
                "--input-rotate-wait-ms", "1500",
            ])
        try scenario.waitForShipped(1_000)
        writer.rotate(.renameAndCreate)
        writer.write(count: 500)
        try scenario.waitForShipped(1_500)
        // The rotated file is still draining (rotate_wait_ms) when the directory closes.
        let logs = scenario.directory.file("logs")
        #expect(chmod(logs, 0) == 0)
        try waitUntil("/healthz to fail with the error") {
            guard let response = HTTPClient.get(port: port, "/healthz") else { return false }
            return response.status == 503 && response.body.contains("Permission denied")
        }
        let health = try Output.object(Substring(try #require(HTTPClient.get(port: port, "/health")).body))
        #expect((health["input_error"] as? String)?.contains("Permission denied") == true)
        // Past the rotation deadline: a failing pass must not be retried in a busy loop.
        let before = Self.cpuSeconds(daemon.pid)
        Thread.sleep(forTimeInterval: 2.5)  // the measuring window itself
        let used = Self.cpuSeconds(daemon.pid) - before
        #expect(used < 0.2, "\(used) CPU s in 2.5 s with the directory unreadable")
        writer.write(count: 500)
        #expect(chmod(logs, 0o755) == 0)
        try scenario.waitForShipped(2_000)
        try waitUntil("/healthz to recover") { HTTPClient.get(port: port, "/healthz")?.status == 200 }
        #expect(try daemon.stop() == 0)
        #expect(scenario.shipped == Array(0..<2_000))
        print("unreadable directory: \(used) CPU s in 2.5 s while failing")
    }

    @Test("among many files, one that cannot be opened holds up none of the others, is shown, and is shipped once readable")
    func unopenableFile() throws {
        let scenario = Scenario()
        let logs = scenario.directory.file("logs")
        scenario.inputArguments = ["--input-paths", "\(logs)/*.log"]
        let port = HTTPClient.freePort()
        let daemon = try OtherUser.start(scenario, uid: 61_004, ["--health-address", "127.0.0.1", "--health-port", "\(port)"])
        let locked = LogWriter(path: "\(logs)/a-locked.log")
        locked.write(count: 100)
        #expect(chmod(locked.path, 0) == 0)
        let open = LogWriter(path: "\(logs)/b-open.log")
        open.write(count: 200)
        try scenario.waitForShipped(200)
        try waitUntil("/health to name the file that cannot be opened") {
            guard let body = HTTPClient.get(port: port, "/health")?.body, let health = try? Output.object(Substring(body)) else { return false }
            return (health["input_error"] as? String)?.contains("a-locked.log") == true
        }
        #expect(chmod(locked.path, 0o644) == 0)
        try scenario.waitForShipped(300)
        try waitUntil("the error to clear") { HTTPClient.get(port: port, "/health")?.body.contains("\"input_error\":\"\"") == true }
        #expect(try daemon.stop() == 0)
        let byFile = Dictionary(grouping: try Output.lines(scenario.output).map(Output.object), by: { $0["file"] as? String ?? "" })
        #expect(byFile[locked.path]?.compactMap { $0["seq"] as? Int } == Array(0..<100))
        #expect(byFile[open.path]?.compactMap { $0["seq"] as? Int } == Array(0..<200))
    }

    @Test("the checkpoint directory becomes read-only: shipping goes on, /health shows it, the checkpoint catches up after")
    func readOnlyCheckpoint() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 1_000)
        let port = HTTPClient.freePort()
        let daemon = try OtherUser.start(scenario, uid: 61_003, ["--health-address", "127.0.0.1", "--health-port", "\(port)"])
        try scenario.waitForShipped(1_000)
        try waitUntil("the first checkpoint") { Output.checkpointOffset(scenario.checkpoint) != nil }
        let state = scenario.directory.file("state")
        #expect(chmod(state, 0o555) == 0)
        writer.write(count: 1_000)
        try scenario.waitForShipped(2_000)
        try waitUntil("/health to show the checkpoint error") {
            guard let body = HTTPClient.get(port: port, "/health")?.body, let health = try? Output.object(Substring(body)) else { return false }
            return (health["checkpoint_error"] as? String)?.contains("Permission denied") == true
        }
        #expect(chmod(state, 0o755) == 0)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: scenario.input)[.size] as? Int)
        try waitUntil("the checkpoint to catch up") { Output.checkpointOffset(scenario.checkpoint) == size }
        try waitUntil("the error to clear") {
            HTTPClient.get(port: port, "/health")?.body.contains("\"checkpoint_error\":\"\"") == true
        }
        #expect(try daemon.stop() == 0)
        #expect(scenario.shipped == Array(0..<2_000))
    }
}
