import Foundation

/// `Fixtures/scripted_http.py` as a child process: an HTTP receiver that answers by script and logs
/// every request it got.
final class ScriptedReceiver {
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/scripted_http.py").path
    }

    struct Request {
        let number: Int
        let time: Double
        let path: String
        let records: Int
        let status: Int
        let encoding: String?
        let headers: [String: String]
        let problems: [String]
        let first: String?
    }

    let directory: String
    let process = Process()
    private(set) var port = 0

    init(directory: String, script: [String: Any], tls: (cert: String, key: String)? = nil) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let scriptText = String(decoding: try JSONSerialization.data(withJSONObject: script), as: UTF8.self)
        // python3 from PATH, as the set-up installed its packages (opentelemetry-proto) for it.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, directory, scriptText] + (tls.map { [$0.cert, $0.key] } ?? [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/stderr")
        try process.run()
        try waitUntil("the scripted receiver to listen") { FileManager.default.fileExists(atPath: directory + "/port") }
        port = Int((try? String(contentsOfFile: directory + "/port", encoding: .utf8)) ?? "") ?? 0
    }

    deinit {
        // SIGKILL: a child started by the test process may inherit a mask that blocks SIGTERM.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    var requests: [Request] {
        Output.lines(directory + "/requests.jsonl").compactMap { line in
            guard let object = try? Output.object(line) else { return nil }
            return Request(
                number: object["n"] as? Int ?? 0, time: object["t"] as? Double ?? 0, path: object["path"] as? String ?? "",
                records: object["records"] as? Int ?? 0, status: object["status"] as? Int ?? -1, encoding: object["encoding"] as? String,
                headers: object["headers"] as? [String: String] ?? [:], problems: object["problems"] as? [String] ?? [],
                first: object["first"] as? String)
        }
    }

    /// Elasticsearch: every bulk item answered, in order (`id`, `status`, `index`).
    var items: [[String: Any]] { Output.lines(directory + "/items.jsonl").compactMap { try? Output.object($0) } }

    /// The records of every request answered 2xx, in the order they were accepted.
    var accepted: [Substring] { Output.lines(directory + "/accepted.jsonl") }
}
