import Foundation
import Testing

/// `parse` and `time_format` with the real binary: a log4j-style file through `preset: java` and a
/// regex, logfmt on text and on a JSON input's message, two exec streams interleaving tracebacks, and
/// the event time Loki and OTLP receive.
@Suite("Parsing text logs and event times, end to end")
struct ParseEndToEndTests {
    static func write(_ object: [String: Any], to path: String) throws {
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
    }

    static let log4jPattern = #"^(?<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?<level>[A-Z]+) +\[(?<thread>[^\]]+)\] (?<message>(?s).*)$"#

    @Test(
        "a log4j-style file through preset java and a regex: each record's fields, traces whole in message; a line that does not match flagged and counted"
    )
    func regexAfterMultiline() throws {
        let scenario = Scenario()
        let health = HTTPClient.freePort()
        try Self.write(
            [
                "input": [
                    "paths": [
                        [
                            "path": scenario.input, "format": "text", "multiline": ["preset": "java", "timeout_ms": 200],
                            "parse": ["type": "regex", "pattern": Self.log4jPattern],
                        ]
                    ]
                ]
            ], to: scenario.directory.file("config.json"))
        scenario.inputArguments = ["--config", scenario.directory.file("config.json")]
        var text = ""
        var expected: [[String: String]] = []
        for id in 0..<300 {
            let level = id % 7 == 0 ? "ERROR" : "INFO"
            var message = "request \(id) \"served\" é"
            if id % 7 == 0 {
                message += "\njava.lang.IllegalStateException: request \(id)\n\tat app.Worker.run(Worker.java:\(id))"
                message += "\nCaused by: java.io.IOException: disk\n\t... 1 more"
            }
            let time = String(format: "2026-12-02 10:%02d:%02d,%03d", id / 60 % 60, id % 60, id)
            text += "\(time) \(level) [worker-\(id % 3)] \(message)\n"
            expected.append(["time": time, "level": level, "thread": "worker-\(id % 3)", "message": message])
            if id == 150 { text += "a line in no layout\n" }
        }
        scenario.directory.append("logs/app.log", text)
        let daemon = try scenario.start(["--health-port", String(health)])
        defer { _ = try? daemon.stop() }
        try scenario.waitForShipped(301)
        let records = try Output.lines(scenario.output).map { try Output.object($0) }
        #expect(records.count == 301)
        let parsed = records.filter { $0["parse_error"] == nil }
        #expect(parsed.map { $0.compactMapValues { $0 as? String } } == expected)
        let failed = records.filter { $0["parse_error"] as? Bool == true }
        #expect(failed.map { $0["message"] as? String } == ["a line in no layout"])
        let counters = try #require(HTTPClient.get(port: health, "/health")).body
        #expect(counters.contains("\"parse_errors\":1"), "\(counters)")
        #expect(try daemon.stop() == 0)
    }

    @Test("logfmt on a text file and on a JSON file's message: fields as written, quoted values unescaped, flags true")
    func logfmt() throws {
        let scenario = Scenario()
        let json = scenario.directory.file("logs/app.json")
        try Self.write(
            [
                "input": [
                    "paths": [
                        ["path": scenario.input, "format": "text", "parse": ["type": "logfmt"]],
                        ["path": json, "format": "json", "parse": ["type": "logfmt"]],
                    ]
                ]
            ], to: scenario.directory.file("config.json"))
        scenario.inputArguments = ["--config", scenario.directory.file("config.json")]
        scenario.directory.append(
            "logs/app.log", #"level=info msg="user \"ann\" signed in" took=12ms cached"# + "\n" + #"level=warn msg="unclosed"# + "\n")
        scenario.directory.append("logs/app.json", #"{"seq":1,"message":"method=GET path=/x status=200"}"# + "\n")
        let daemon = try scenario.start()
        defer { _ = try? daemon.stop() }
        try scenario.waitForShipped(3)
        let records = try Output.lines(scenario.output).map { try Output.object($0) }
        let first = try #require(records.first { $0["took"] != nil })
        #expect(first["level"] as? String == "info" && first["msg"] as? String == "user \"ann\" signed in")
        #expect(first["took"] as? String == "12ms" && first["cached"] as? Bool == true)
        let flagged = try #require(records.first { $0["parse_error"] != nil })
        #expect(flagged["message"] as? String == #"level=warn msg="unclosed"#)
        let fromJSON = try #require(records.first { $0["seq"] != nil })
        #expect(fromJSON["method"] as? String == "GET" && fromJSON["status"] as? String == "200" && fromJSON["message"] == nil)
        #expect(try daemon.stop() == 0)
    }

    /// A Python child that writes tracebacks to stdout and stderr at once, each piece flushed, the
    /// two streams' pieces alternating, and plain lines between.
    static let interleavingChild = #"""
        import sys, random
        random.seed(7)
        def record(stream, n):
            if n % 2:
                return [f"2026-12-02 10:00:00,000 INFO {stream} {n} served"]
            return [f"2026-12-02 10:00:00,000 ERROR {stream} {n} failed", "Traceback (most recent call last):",
                    f'  File "/app/{stream}.py", line {n}, in handle_{stream}_{n}', f"    run({n})",
                    f"ValueError: {stream} {n}"]
        pending = {"out": [], "err": []}
        counts = {"out": 0, "err": 0}
        while counts["out"] < 400 or pending["out"] or counts["err"] < 400 or pending["err"]:
            for stream, file in (("out", sys.stdout), ("err", sys.stderr)):
                if not pending[stream] and counts[stream] < 400:
                    pending[stream] = record(stream, counts[stream])
                    counts[stream] += 1
                take = random.randint(1, 3)
                for line in pending[stream][:take]:
                    file.write(line + "\n")
                pending[stream] = pending[stream][take:]
                file.flush()
        """#

    @Test("two exec streams interleaving tracebacks piece by piece: every record whole and of its own stream")
    func twoStreamsInterleave() throws {
        let scenario = Scenario()
        let python = try #require(["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) })
        let stream: [String: Any] = ["format": "text", "multiline": ["preset": "python"]]
        try Self.write(
            ["exec": ["command": [python, "-c", Self.interleavingChild], "stdout": stream, "stderr": stream]],
            to: scenario.directory.file("config.json"))
        scenario.inputArguments = ["--config", scenario.directory.file("config.json")]
        let daemon = try scenario.start()
        #expect(try daemon.waitForExit() == 0)
        let records = try Output.lines(scenario.output).map { try Output.object($0) }
        #expect(records.count == 800)
        for name in ["out", "err"] {
            let mine = records.filter { $0["stream"] as? String == (name == "out" ? "stdout" : "stderr") }
            #expect(mine.count == 400)
            for (n, record) in mine.enumerated() {
                let message = record["message"] as? String ?? ""
                let expected =
                    n % 2 == 1
                    ? "2026-12-02 10:00:00,000 INFO \(name) \(n) served"
                    : [
                        "2026-12-02 10:00:00,000 ERROR \(name) \(n) failed", "Traceback (most recent call last):",
                        "  File \"/app/\(name).py\", line \(n), in handle_\(name)_\(n)", "    run(\(n))", "ValueError: \(name) \(n)",
                    ].joined(separator: "\n")
                #expect(message == expected)
            }
        }
    }

    @Test("loki and otlp take the event time from time_key with time_format; a value that does not parse keeps the processing time and is counted")
    func eventTime() throws {
        let harness = HTTPHarness()
        let loki = try ScriptedReceiver(directory: harness.directory.file("loki"), script: ["protocol": "loki"])
        let otlp = try ScriptedReceiver(
            directory: harness.directory.file("otlp"), script: ["protocol": "otlp", "content_type": "application/json"])
        harness.scenario.inputArguments = []
        let entry = """
            "input": {"paths": [{"path": "\(harness.scenario.input)", "format": "text",
              "parse": {"type": "regex", "pattern": "^(?<time>\\\\S+ \\\\S+) (?<level>[A-Z]+) (?<message>.*)$"}}]},
            """
        harness.directory.append(
            "logs/app.log",
            "2026-11-28 10:00:00,123 INFO first\n2026-11-28 10:00:01,000 WARN second\n2026-13-45 99:00:00,000 INFO bad time\n")
        let started = Date().timeIntervalSince1970
        let daemon = try harness.start(
            sinks: """
                {"type": "http", "name": "loki", "format": "loki", "url": "\(loki.url)", "batch_timeout_ms": 50,
                 "time_key": "time", "time_format": "%Y-%m-%d %H:%M:%S,%L"},
                {"type": "http", "name": "otlp", "format": "otlp", "url": "\(otlp.url)", "batch_timeout_ms": 50,
                 "time_key": "time", "time_format": "%Y-%m-%d %H:%M:%S,%L"}
                """, extra: entry)
        try waitUntil("3 entries in each") { loki.accepted.count >= 3 && otlp.accepted.count >= 3 }
        let ended = Date().timeIntervalSince1970
        for request in loki.requests + otlp.requests { #expect(request.problems.isEmpty, "\(request.problems)") }
        let lokiTimes = try loki.accepted.map { try Output.object($0)["ts"] as? String ?? "" }
        #expect(lokiTimes.prefix(2) == ["1795860000123000000", "1795860001000000000"])
        let fallback = (Double(lokiTimes.last ?? "") ?? 0) / 1e9
        #expect(fallback >= started - 1 && fallback <= ended + 1, "the processing time")
        let otlpRecords = try otlp.accepted.map { try Output.object($0)["record"] as? [String: Any] ?? [:] }
        #expect(otlpRecords.map { $0["timeUnixNano"] as? String } == ["1795860000123000000", "1795860001000000000", nil])
        let metrics = harness.metrics()
        #expect(metrics.contains("log_sidecar_time_parse_errors_total{sink=\"loki\"} 1"), "\(metrics)")
        #expect(metrics.contains("log_sidecar_time_parse_errors_total{sink=\"otlp\"} 1"))
        #expect(try daemon.stop() == 0)
    }
}
