import Foundation
import Testing

/// The multiline presets on what real runtimes print: a JVM, CPython and a Go binary write traces
/// between ordinary log lines into a followed file, and every trace must arrive as one record whose
/// message is exactly what the runtime printed, every ordinary line as a record of its own.
@Suite("Multiline presets on real runtimes")
struct MultilineRuntimeTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/multiline").path

    /// Runs `executable` to its end; its stderr goes to `stderrPath` when given.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], stderrPath: String? = nil) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let stderrPath {
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: stderrPath)
        }
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func which(_ command: String) -> String? {
        for directory in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/\(command)") {
            return "\(directory)/\(command)"
        }
        return nil
    }

    /// Follows `log` as text with `preset`, starts the daemon before the runtime writes (`write`), and
    /// returns the messages shipped once `expected` many came.
    func ship(preset: String, write: (String) throws -> [String]) throws -> (messages: [String], expected: [String]) {
        let scenario = Scenario("multiline-\(preset)")
        let config = scenario.directory.file("config.json")
        let entry: [String: Any] = ["path": scenario.input, "format": "text", "multiline": ["preset": preset]]
        try JSONSerialization.data(withJSONObject: ["input": ["paths": [entry]]]).write(to: URL(fileURLWithPath: config))
        scenario.inputArguments = ["--config", config]
        let daemon = try scenario.start()
        defer { _ = try? daemon.stop() }
        let expected = try write(scenario.input)
        // The last record goes once the file has been quiet for timeout_ms (1 s).
        try scenario.waitForShipped(expected.count, seconds: 60)
        let messages = try Output.lines(scenario.output).map { try Output.object($0)["message"] as? String ?? "" }
        return (messages, expected)
    }

    func expectSame(_ shipped: (messages: [String], expected: [String]), traces: Int) {
        #expect(shipped.messages.count == shipped.expected.count)
        for (index, (message, expected)) in zip(shipped.messages, shipped.expected).enumerated() where message != expected {
            Issue.record("record \(index) differs:\n--- shipped\n\(message)\n--- printed\n\(expected)")
            break
        }
        #expect(shipped.expected.filter { $0.contains("\n") }.count == traces, "the runtime printed \(traces) traces")
    }

    @Test("java: java.util.logging records with causes, suppressed and nested throwables, and an uncaught exception in a thread")
    func java() throws {
        let java = try #require(Self.which("java"), "a JVM (default-jdk-headless)")
        let shipped = try ship(preset: "java") { log in
            let expectations = log + ".expected.json"
            #expect(try Self.run(java, ["\(Self.fixtures)/Traces.java", log, expectations]) == 0)
            let printed = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: expectations))) as? [String] ?? []
            // SimpleFormatter ends a record that has a throwable with an empty line: an empty line,
            // counted and not shipped.
            return printed.map { $0.hasSuffix("\n") ? String($0.dropLast()) : $0 }
        }
        expectSame(shipped, traces: 7)
    }

    @Test("python: logging.exception, raise from, an exception while handling another, an ExceptionGroup")
    func python() throws {
        let python = try #require(Self.which("python3"))
        let shipped = try ship(preset: "python") { log in
            let expectations = log + ".expected.json"
            #expect(try Self.run(python, ["\(Self.fixtures)/traces.py", log, expectations]) == 0)
            return try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: expectations))) as? [String] ?? []
        }
        expectSame(shipped, traces: 12)
    }

    @Test("go: log lines, then a panic with GOTRACEBACK=all and seven goroutines' stacks")
    func go() throws {
        let go = try #require(Self.which("go"), "Go (golang-go)")
        let shipped = try ship(preset: "go") { log in
            let build = URL(fileURLWithPath: log).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("go").path
            let binary = build + "/panics"
            let environment = ["GOCACHE": build + "/cache", "GOPATH": build + "/path", "GO111MODULE": "off", "HOME": build]
            #expect(try Self.run(go, ["build", "-o", binary, "\(Self.fixtures)/panics.go"], environment: environment) == 0)
            #expect(try Self.run(binary, [], environment: ["GOTRACEBACK": "all"], stderrPath: log) == 2)
            // Each log line alone, then the panic and everything after it, as printed.
            let printed = try String(contentsOfFile: log, encoding: .utf8)
            let panic = try #require(printed.range(of: "panic: "))
            let lines = printed[..<panic.lowerBound].split(separator: "\n").map(String.init)
            var trace = String(printed[panic.lowerBound...])
            while trace.hasSuffix("\n") { trace.removeLast() }
            return lines + [trace]
        }
        expectSame(shipped, traces: 1)
        #expect(shipped.messages.last?.components(separatedBy: "goroutine ").count == 8, "the panicking goroutine and six more")
    }

    /// Runs `command` as the daemon's child with `preset` on its stderr, and returns the messages of
    /// the stderr records once the child has exited (and the daemon with it, with the child's status).
    func shipExec(preset: String, command: [String], status: Int32, environment: [String: String] = [:]) throws -> [String] {
        let scenario = Scenario("multiline-exec-\(preset)")
        let config = scenario.directory.file("config.json")
        let exec: [String: Any] = [
            "command": command, "stdout": ["format": "json"], "stderr": ["format": "text", "multiline": ["preset": preset]],
        ]
        try JSONSerialization.data(withJSONObject: ["exec": exec]).write(to: URL(fileURLWithPath: config))
        scenario.inputArguments = ["--config", config]
        let daemon = try scenario.start(environment: environment)
        #expect(try daemon.waitForExit() == status)
        return try Output.lines(scenario.output).map { try Output.object($0) }.filter { $0["stream"] as? String == "stderr" }
            .map { $0["message"] as? String ?? "" }
    }

    @Test("exec mode: each runtime's stderr through the preset, every trace one record, as printed")
    func execStreams() throws {
        let directory = TestDirectory()
        if let python = Self.which("python3") {
            let expectations = directory.file("python.json")
            let messages = try shipExec(preset: "python", command: [python, "\(Self.fixtures)/traces.py", "/dev/stderr", expectations], status: 0)
            let printed = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: expectations))) as? [String] ?? []
            #expect(messages == printed)
        }
        if let java = Self.which("java") {
            let expectations = directory.file("java.json")
            let messages = try shipExec(preset: "java", command: [java, "\(Self.fixtures)/Traces.java", "/dev/stderr", expectations], status: 0)
            let printed = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: expectations))) as? [String] ?? []
            #expect(messages == printed.map { $0.hasSuffix("\n") ? String($0.dropLast()) : $0 })
        }
        if let go = Self.which("go") {
            let build = directory.file("go")
            let environment = ["GOCACHE": build + "/cache", "GOPATH": build + "/path", "GO111MODULE": "off", "HOME": build]
            #expect(try Self.run(go, ["build", "-o", build + "/panics", "\(Self.fixtures)/panics.go"], environment: environment) == 0)
            let messages = try shipExec(preset: "go", command: [build + "/panics"], status: 2, environment: ["GOTRACEBACK": "all"])
            #expect(messages.count == 7, "six log lines and the panic")
            #expect(messages.last?.hasPrefix("panic: runtime error: index out of range [7] with length 3\n\ngoroutine 1 [running]:") == true)
            #expect(messages.last?.components(separatedBy: "goroutine ").count == 8)
        }
    }
}
