import Foundation

/// A daemon following `app.log` with HTTP sinks from a config file and its health server on a free port.
struct HTTPHarness: @unchecked Sendable {
    let scenario: Scenario
    let healthPort = HTTPClient.freePort()

    init(_ name: String = #function) { scenario = Scenario(name) }

    var directory: TestDirectory { scenario.directory }
    var deadLetters: String { directory.file("state/dead-letter.jsonl") }

    /// Starts the daemon with `sinks` (JSON objects, comma-separated); no enrichment, so records leave as written.
    @discardableResult
    func start(sinks: String, environment: [String: String] = [:], extra: String = "", arguments: [String] = []) throws -> DaemonProcess {
        directory.write("config.json", "{\(extra)\"sinks\": [\(sinks)]}")
        let daemon = try scenario.start(
            ["--config", directory.file("config.json"), "--health-port", String(healthPort)] + arguments, environment: environment)
        try waitUntil("the health server") { HTTPClient.get(port: healthPort, "/readyz")?.status == 200 }
        return daemon
    }

    func health() -> [String: Any] {
        guard let body = HTTPClient.get(port: healthPort, "/health")?.body,
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        else { return [:] }
        return object
    }

    func sink(_ name: String) -> [String: Any] {
        (health()["sinks"] as? [[String: Any]])?.first { $0["name"] as? String == name } ?? [:]
    }

    func metrics() -> String { HTTPClient.get(port: healthPort, "/metrics")?.body ?? "" }

    /// `seq` 0..<count, with text that needs escaping, appended to the input.
    func writeRecords(_ range: Range<Int>, pad: Int = 0) {
        var text = ""
        for seq in range {
            text +=
                "{\"seq\":\(seq),\"level\":\"info\",\"msg\":\"request \(seq) \\\"served\\\" é ✓ \\\\ \\t\(String(repeating: "x", count: pad))\"}\n"
        }
        directory.append("logs/app.log", text)
    }

    var inputLines: [Substring] { Output.lines(scenario.input) }

    func checkpointOffset() -> Int { Output.checkpointOffset(scenario.checkpoint) ?? 0 }
}
