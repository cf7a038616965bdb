import Foundation
import Testing

/// The filters through the real binary: outputs compared record for record with an independent
/// implementation in Python (Fixtures/filter_reference.py), the counts of sample and throttle, the
/// counters, the checkpoint past dropped records, and the configuration errors.
@Suite("Filters")
struct FilterEndToEndTests {
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/filter_reference.py").path

    /// Runs `filter_reference.py` with `arguments`; its exit status and what it printed.
    static func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [reference] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A config file holding `filters` (JSON) and a file sink at `sink`; its path.
    static func config(_ scenario: Scenario, filters: String, sink: String) -> String {
        scenario.directory.write("config.json", #"{"sinks":[{"type":"file","path":"\#(sink)"}],"filters":\#(filters)}"#)
        return scenario.directory.file("config.json")
    }

    static func metric(_ port: Int, _ name: String) -> Int? {
        guard let body = HTTPClient.get(port: port, "/metrics")?.body else { return nil }
        for line in body.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Int(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    @Test(
        "every type on 30,000 generated records equals the Python reference, record for record",
        arguments: [
            // drop, keep (a pattern on strings and number texts), remove (nested), rename (into a new object), redact with a pattern, sample with unless
            #"""
            [{"type":"drop","field":"level","equals":["debug","trace"]},
             {"type":"drop","field":"request.method","equals":["HEAD"]},
             {"type":"keep","field":"status","matches":"^(2|5|n)"},
             {"type":"remove","fields":["password","request.headers.authorization"]},
             {"type":"rename","from":"msg","to":"message"},
             {"type":"rename","from":"request.headers.host","to":"meta.host"},
             {"type":"redact","fields":["email","user"],"pattern":"[\\w.+\\\\-]+@","replacement":"***@"},
             {"type":"redact","fields":["message"],"pattern":"\\d+"},
             {"type":"sample","rate":3,"unless":{"field":"status","equals":[500,"503",null]}}]
            """#,
            // redact every string, whole values, lines that are not objects, a rename into a nested path
            #"""
            [{"type":"drop","field":"message","matches":"^plain"},
             {"type":"redact","pattern":"[0-9]{2}","replacement":"#"},
             {"type":"redact","fields":["password","request.headers"]},
             {"type":"remove","fields":["user.contacts","parse_error"]},
             {"type":"rename","from":"seq","to":"n.seq"},
             {"type":"keep","field":"level","equals":["info","warn","error","fatal","DEBUG"]}]
            """#,
        ])
    func reference(filters: String) throws {
        let scenario = Scenario()
        try #require(try Self.python(["generate", "7", "30000", scenario.input]).status == 0)
        let sink = scenario.directory.file("shipped.jsonl")
        let config = Self.config(scenario, filters: filters, sink: sink)
        let port = HTTPClient.freePort()
        let daemon = try scenario.start(["--config", config, "--health-address", "127.0.0.1", "--health-port", "\(port)"])
        let size = try FileManager.default.attributesOfItem(atPath: scenario.input)[.size] as? Int ?? 0
        try waitUntil("every line read and its checkpoint written") { Output.checkpointOffset(scenario.checkpoint) == size }
        let health = try #require(HTTPClient.get(port: port, "/health")?.body)
        #expect(try daemon.stop() == 0)
        let check = try Self.python(["check", config, scenario.input, sink])
        #expect(check.status == 0, "\(check.output)")
        // Every record the reference keeps is in the sink; the others are counted against their filter.
        let kept = Output.lines(sink).count
        let object = try #require(try JSONSerialization.jsonObject(with: Data(health.utf8)) as? [String: Any])
        let dropped = (object["filters"] as? [[String: Any]] ?? []).reduce(0) { $0 + ($1["records_dropped"] as? Int ?? 0) }
        #expect(kept + dropped == 30_000, "\(health)")
    }

    @Test("sample 10 over 100,000 records keeps exactly 10,000 plus those unless matches; /metrics counts the rest")
    func sample() throws {
        let scenario = Scenario()
        // 100,000 sampled records, and beside every 13th one an error record that unless lets through.
        var lines: [String] = []
        for seq in 0..<100_000 {
            lines.append(#"{"seq":\#(seq),"level":"info"}"#)
            if seq % 13 == 0 { lines.append(#"{"seq":\#(1_000_000 + seq),"level":"error"}"#) }
        }
        scenario.directory.write("logs/app.log", lines.joined(separator: "\n") + "\n")
        let sink = scenario.directory.file("shipped.jsonl")
        let config = Self.config(
            scenario, filters: #"[{"type":"sample","name":"tenth","rate":10,"unless":{"field":"level","equals":["error"]}}]"#, sink: sink)
        let port = HTTPClient.freePort()
        let daemon = try scenario.start(["--config", config, "--health-address", "127.0.0.1", "--health-port", "\(port)"])
        let errors = lines.count - 100_000
        try waitUntil("the drops counted") { Self.metric(port, #"log_sidecar_records_dropped_total{filter="tenth"}"#) == 90_000 }
        try waitUntil("10,000 sampled records and the errors") { Output.lines(sink).count >= 10_000 + errors }
        #expect(try daemon.stop() == 0)
        let shipped = Output.sequenceNumbers(sink)
        #expect(shipped.count == 10_000 + errors)
        #expect(shipped.filter { $0 < 1_000_000 } == Array(stride(from: 0, to: 100_000, by: 10)), "the first of every ten")
        #expect(shipped.filter { $0 >= 1_000_000 }.count == errors)
    }

    @Test("throttle 1,000/s over a 5 s burst of 50,000 keeps between 5,000 and 6,000 and counts the rest")
    func throttle() throws {
        let scenario = Scenario()
        let sink = scenario.directory.file("shipped.jsonl")
        let config = Self.config(scenario, filters: #"[{"type":"throttle","per_second":1000}]"#, sink: sink)
        scenario.directory.write("logs/app.log", "")
        let port = HTTPClient.freePort()
        let daemon = try scenario.start(["--config", config, "--health-address", "127.0.0.1", "--health-port", "\(port)"])
        try waitUntil("following") { HTTPClient.get(port: port, "/readyz")?.status == 200 }
        // 10,000 lines a second for 5 s, in 100 writes 50 ms apart, each aimed at its own instant.
        let start = Date()
        for chunk in 0..<100 {
            let text = (0..<500).map { #"{"seq":\#(chunk * 500 + $0)}"# + "\n" }.joined()
            scenario.directory.append("logs/app.log", text)
            let next = start.addingTimeInterval(Double(chunk + 1) * 0.05)
            if next > Date() { Thread.sleep(until: next) }
        }
        try waitUntil("all 50,000 lines read") { Self.metric(port, "log_sidecar_lines_read_total") == 50_000 }
        try waitUntil("every line kept or counted") {
            guard let dropped = Self.metric(port, #"log_sidecar_records_dropped_total{filter="throttle#0"}"#) else { return false }
            return dropped + Output.lines(sink).count == 50_000
        }
        #expect(try daemon.stop() == 0)
        let kept = Output.lines(sink).count
        #expect((5_000...6_000).contains(kept), "kept \(kept) in \(Date().timeIntervalSince(start)) s")
    }

    @Test("dropped records move the checkpoint: a restart repeats nothing")
    func checkpointPastDrops() throws {
        let scenario = Scenario()
        let sink = scenario.directory.file("shipped.jsonl")
        let config = Self.config(scenario, filters: #"[{"type":"drop","field":"level","equals":["debug"]}]"#, sink: sink)
        let lines = (0..<1000).map { #"{"seq":\#($0),"level":"\#($0 < 10 ? "info" : "debug")"}"# }
        scenario.directory.write("logs/app.log", lines.joined(separator: "\n") + "\n")
        let size = try FileManager.default.attributesOfItem(atPath: scenario.input)[.size] as? Int ?? 0
        var daemon = try scenario.start(["--config", config])
        try waitUntil("the checkpoint at the end of the file, past 990 dropped records") { Output.checkpointOffset(scenario.checkpoint) == size }
        #expect(try daemon.stop() == 0)
        #expect(Output.sequenceNumbers(sink) == Array(0..<10))
        #expect(Output.checkpointOffset(scenario.checkpoint) == size)
        daemon = try scenario.start(["--config", config])
        scenario.directory.append("logs/app.log", (1000..<1010).map { #"{"seq":\#($0),"level":"info"}"# + "\n" }.joined())
        try waitUntil("the new records") { Output.lines(sink).count >= 20 }
        #expect(try daemon.stop() == 0)
        #expect(Output.sequenceNumbers(sink) == Array(0..<10) + Array(1000..<1010))
    }

    @Test(
        "bad filter configurations exit 2 naming the filter, the key and a pattern's position",
        arguments: [
            (#"[{"type":"grep","field":"a"}]"#, "filters[0].type: expected one of drop, keep, remove, rename, redact, sample, throttle"),
            (
                #"[{"type":"drop","field":"a","equals":["x"]},{"type":"keep","field":"s","matches":"^5[0-9"}]"#,
                #"filters[1].matches: the pattern "^5[0-9" does not compile: missing terminating ] for character class at byte 6"#
            ),
            (#"[{"type":"remove","field":"a"}]"#, "filters[0].field: unknown key for a remove filter"),
            (#"[{"type":"sample","rate":"ten"}]"#, "filters[0].rate"),
            (#"[{"type":"redact","fields":"email"}]"#, "filters[0].fields: expected a non-empty array of field names"),
        ])
    func badConfiguration(filters: String, message: String) throws {
        let scenario = Scenario()
        let config = Self.config(scenario, filters: filters, sink: scenario.directory.file("shipped.jsonl"))
        let result = try DaemonProcess.run(scenario.arguments(["--config", config]))
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
    }

    @Test("filters are set in the config file only: the environment variable and the flag are errors")
    func fileOnly() throws {
        let scenario = Scenario()
        let environment = try DaemonProcess.run(scenario.arguments(), environment: ["LOG_SIDECAR_FILTERS": "[]"])
        #expect(environment.status == 2)
        #expect(environment.stderr.contains("LOG_SIDECAR_FILTERS: filters are set in the config file only"), "\(environment.stderr)")
        let flag = try DaemonProcess.run(scenario.arguments(["--filters", "[]"]))
        #expect(flag.status == 2)
        #expect(flag.stderr.contains("--filters: filters are set in the config file only"), "\(flag.stderr)")
    }
}
