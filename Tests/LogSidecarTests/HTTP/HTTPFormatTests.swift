import Foundation
import Testing

/// OTLP, Loki and Elasticsearch against scripted receivers that check each protocol as the real
/// receiver does (Fixtures/scripted_http.py: OTLP bodies parsed with opentelemetry-proto's schema,
/// Loki's push shape and label rules, `_bulk` pairs and per-item answers).
@Suite("HTTP formats: OTLP, Loki, Elasticsearch")
struct HTTPFormatTests {
    func receiver(_ harness: HTTPHarness, _ script: [String: Any]) throws -> ScriptedReceiver {
        try ScriptedReceiver(directory: harness.directory.file("receiver"), script: script)
    }

    func expectWellFormed(_ receiver: ScriptedReceiver) {
        #expect(!receiver.requests.isEmpty)
        for request in receiver.requests { #expect(request.problems.isEmpty, "request \(request.number): \(request.problems)") }
    }

    /// Records of every JSON type, each level, both message keys, timestamps with and without a zone, one
    /// that is no timestamp, and a line that is not JSON.
    static let otlpInput: [String] = [
        #"{"time":"2026-11-28T10:00:00.123456789Z","level":"warn","msg":"disk \"full\" é","n":42,"neg":-7,"big":12345678901234567890,"ratio":0.25,"ok":true,"none":null,"tags":["a",1,false],"ctx":{"user":"ana","id":7},"trace_id":"5B8EFFF798038103D269B633813FC60C","span_id":"eee19b7ec3c1b174","seq":0}"#,
        #"{"ts":"2026-11-28T10:00:00+02:00","level":"ERROR","message":"from message","seq":1}"#,
        #"{"timestamp":"yesterday","level":"trace","msg":"no time","seq":2}"#,
        #"{"@timestamp":"2024-02-29T23:59:59.5Z","level":30,"msg":{"nested":[1,2.5]},"seq":3}"#,
        #"{"level":"fatal","msg":"no time key","seq":4,"huge":1e400}"#,
        #"{"level":"custom","seq":5}"#,
        "not json at all",
    ]

    /// The receiver's script for OTLP in `encoding`.
    static func otlpScript(_ encoding: String, rules: [[String: Any]] = []) -> [String: Any] {
        ["protocol": "otlp", "content_type": encoding == "json" ? "application/json" : "application/x-protobuf", "rules": rules]
    }

    @Test(
        "otlp: every body parses as ExportLogsServiceRequest (protobuf: byte for byte its canonical encoding); resource, severity, body, attributes with their types and timestamps equal the input",
        arguments: ["json", "protobuf"])
    func otlp(encoding: String) throws {
        let harness = HTTPHarness()
        let receiver = try receiver(harness, Self.otlpScript(encoding))
        harness.directory.append("logs/app.log", Self.otlpInput.joined(separator: "\n") + "\n")
        let started = Date().timeIntervalSince1970
        let daemon = try harness.start(
            sinks:
                #"{"type": "http", "name": "otel", "format": "otlp", "encoding": "\#(encoding)", "url": "\#(receiver.url)", "batch_timeout_ms": 50}"#,
            environment: ["HOSTNAME": "web-1", "POD_NAME": "shop-7f9"],
            extra: #""enrich": {"fields": {"cluster": "prod", "replicas": 3}, "env_fields": {"pod": "POD_NAME"}, "file_key": "file"},"#,
            arguments: ["--enrich-host-field", "host", "--enrich-timestamp-field", "processed_at"])
        try waitUntil("7 log records") { receiver.accepted.count >= 7 }
        expectWellFormed(receiver)
        #expect(receiver.requests.allSatisfy { $0.path == "/v1/logs" })
        let parsed = try receiver.accepted.map { try Output.object($0) }
        #expect(parsed.count == 7)
        let ended = Date().timeIntervalSince1970
        for entry in parsed {
            let resource = Self.attributes(entry["resource"])
            #expect(resource["host.name"] as? String == "web-1")
            #expect(resource["cluster"] as? String == "prod")
            #expect(resource["replicas"] as? Int == 3)
            #expect(resource["pod"] as? String == "shop-7f9")
            #expect(resource.count == 4, "\(resource.keys.sorted())")
            let record = entry["record"] as? [String: Any] ?? [:]
            let observed = Double(record["observedTimeUnixNano"] as? String ?? "0") ?? 0
            #expect(observed / 1e9 >= started - 1 && observed / 1e9 <= ended + 1)
            let attributes = Self.attributes(record["attributes"])
            #expect(attributes["log.file.path"] as? String == harness.scenario.input)
            #expect(attributes["processed_at"] == nil && attributes["host"] == nil && attributes["cluster"] == nil)
        }
        let records = parsed.map { $0["record"] as? [String: Any] ?? [:] }
        func attributes(_ index: Int) -> [String: Any] { Self.attributes(records[index]["attributes"]) }
        func kinds(_ index: Int) -> [String: String] { Self.kinds(records[index]["attributes"]) }

        let first = records[0]
        #expect(first["timeUnixNano"] as? String == "1795860000123456789")
        #expect(first["severityNumber"] as? Int == 13)
        #expect(first["severityText"] as? String == "warn")
        #expect(Self.value(first["body"]) as? String == "disk \"full\" é")
        #expect(first["traceId"] as? String == "5b8efff798038103d269b633813fc60c")
        #expect(first["spanId"] as? String == "eee19b7ec3c1b174")
        #expect(
            kinds(0) == [
                "time": "stringValue", "n": "intValue", "neg": "intValue", "big": "doubleValue", "ratio": "doubleValue", "ok": "boolValue",
                "none": "", "tags": "arrayValue", "ctx": "kvlistValue", "seq": "intValue", "log.file.path": "stringValue",
            ])
        let values = attributes(0)
        #expect(values["n"] as? Int == 42 && values["neg"] as? Int == -7 && values["ratio"] as? Double == 0.25 && values["ok"] as? Bool == true)
        #expect(values["big"] as? Double == 12345678901234567890.0)
        #expect(values["none"] is NSNull)
        #expect((values["tags"] as? [Any]).map { "\($0)" } == "[\"a\", 1, false]")
        #expect((values["ctx"] as? [String: Any])?["user"] as? String == "ana" && (values["ctx"] as? [String: Any])?["id"] as? Int == 7)
        #expect(values["time"] as? String == "2026-11-28T10:00:00.123456789Z")

        #expect(records[1]["timeUnixNano"] as? String == "1795852800000000000")
        #expect(records[1]["severityNumber"] as? Int == 17 && records[1]["severityText"] as? String == "ERROR")
        #expect(Self.value(records[1]["body"]) as? String == "from message")
        #expect(records[2]["timeUnixNano"] == nil && attributes(2)["timestamp"] as? String == "yesterday")
        #expect(records[2]["severityNumber"] as? Int == 1)
        #expect(records[3]["timeUnixNano"] as? String == "1709251199500000000")
        #expect(records[3]["severityNumber"] as? Int == 9 && records[3]["severityText"] as? String == "30")
        #expect("\(Self.value(records[3]["body"]) ?? "")" == "[\"nested\": [1, 2.5]]")
        #expect(records[4]["severityNumber"] as? Int == 21 && kinds(4)["huge"] == "stringValue" && attributes(4)["huge"] as? String == "1e400")
        #expect(records[5]["severityNumber"] == nil && records[5]["severityText"] as? String == "custom" && records[5]["body"] == nil)
        #expect(Self.value(records[6]["body"]) as? String == "not json at all" && attributes(6)["parse_error"] as? Bool == true)
        #expect((0..<6).map { attributes($0)["seq"] as? Int ?? -1 } == [0, 1, 2, 3, 4, 5])
        try waitUntil("records_written 7") { harness.sink("otel")["records_written"] as? Int == 7 }
        #expect(try daemon.stop() == 0)
    }

    @Test("otlp: a partial_success is counted as dead-lettered and never retried; 503 retried", arguments: ["json", "protobuf"])
    func otlpPartialSuccess(encoding: String) throws {
        let harness = HTTPHarness()
        let receiver = try receiver(
            harness,
            Self.otlpScript(
                encoding,
                rules: [
                    ["request": 1, "status": 503, "body": "unavailable"],
                    ["request": 2, "status": 200, "partial_success": ["rejected": 3, "message": "3 records had invalid attributes"]],
                ]))
        harness.writeRecords(0..<20)
        let sink = #"{"type": "http", "format": "otlp", "encoding": "\#(encoding)", "url": "\#(receiver.url)/", "batch_timeout_ms": 50}"#
        let daemon = try harness.start(sinks: sink)
        try waitUntil("3 dead-lettered") { harness.sink("http")["records_dead_lettered"] as? Int == 3 }
        try waitUntil("17 written") { harness.sink("http")["records_written"] as? Int == 17 }
        #expect(receiver.requests.map(\.status) == [503, 200])
        #expect(harness.sink("http")["retries"] as? Int == 1)
        #expect(!FileManager.default.fileExists(atPath: harness.deadLetters))
        expectWellFormed(receiver)
        #expect(try daemon.stop() == 0)
    }

    @Test("loki: streams grouped by their label set, names sanitized, values [ns, record]; 429 retried; out of order dead-lettered with the reason")
    func loki() throws {
        let harness = HTTPHarness()
        let receiver = try receiver(
            harness,
            [
                "protocol": "loki",
                "rules": [
                    ["request": 1, "status": 429, "headers": ["Retry-After": "1"], "body": "Ingestion rate limit exceeded"],
                    [
                        "contains": #""seq":7,"#, "status": 400,
                        "body": "entry with timestamp 2026-11-28 10:00:07 ignored, reason: 'entry out of order' for stream: {app_name=\"shop\"}",
                    ],
                ],
            ])
        var text = ""
        for seq in 0..<60 {
            let level = ["info", "warn", "error"][seq % 3]
            let app = seq % 2 == 0 ? #","app.name":"shop""# : ""
            text +=
                #"{"time":"2026-11-28T10:00:\#(String(format: "%02d", seq % 60))Z","level":"\#(level)"\#(app),"seq":\#(seq),"msg":"line \#(seq) \"q\""}"#
                + "\n"
        }
        harness.directory.append("logs/app.log", text)
        let sink = """
            {"type": "http", "name": "loki", "format": "loki", "url": "\(receiver.url)", "batch_timeout_ms": 100,
             "labels": {"env": "prod"}, "label_fields": ["level", "app.name"], "dead_letter_path": "\(harness.deadLetters)"}
            """
        let daemon = try harness.start(sinks: sink)
        try waitUntil("59 entries") { receiver.accepted.count >= 59 }
        try waitUntil("one dead letter") { harness.sink("loki")["records_dead_lettered"] as? Int == 1 }
        expectWellFormed(receiver)
        #expect(receiver.requests.first?.status == 429)
        #expect(receiver.requests.allSatisfy { $0.path == "/loki/api/v1/push" })
        let input = harness.inputLines
        let entries = try receiver.accepted.map { try Output.object($0) }
        // Grouped by stream, so in stream order: the same lines, each once.
        let lines = entries.map { $0["line"] as? String ?? "" }
        #expect(lines.count == 59)
        #expect(lines.sorted() == input.enumerated().filter { $0.offset != 7 }.map { String($0.element) }.sorted())
        for entry in entries {
            let line = try Output.object(Substring(entry["line"] as? String ?? ""))
            let seq = line["seq"] as? Int ?? -1
            var expected = ["env": "prod", "level": ["info", "warn", "error"][seq % 3]]
            if seq % 2 == 0 { expected["app_name"] = "shop" }
            #expect(entry["labels"] as? [String: String] == expected, "seq \(seq)")
            #expect(entry["ts"] as? String == String(1_795_860_000 + seq % 60) + "000000000")
        }
        let letter = try Output.object(try #require(Output.lines(harness.deadLetters).first))
        #expect(letter["status"] as? Int == 400)
        #expect((letter["response"] as? String)?.contains("entry out of order") == true)
        #expect((letter["record"] as? [String: Any])?["seq"] as? Int == 7)
        #expect(try daemon.stop() == 0)
    }

    @Test("loki: no label configured is job=\"log-sidecar\"")
    func lokiDefaultLabel() throws {
        let harness = HTTPHarness()
        let receiver = try receiver(harness, ["protocol": "loki"])
        harness.writeRecords(0..<10)
        let daemon = try harness.start(sinks: #"{"type": "http", "format": "loki", "url": "\#(receiver.url)", "batch_timeout_ms": 50}"#)
        try waitUntil("10 entries") { receiver.accepted.count >= 10 }
        let labels = try receiver.accepted.map { try Output.object($0)["labels"] as? [String: String] ?? [:] }
        #expect(labels.allSatisfy { $0 == ["job": "log-sidecar"] })
        expectWellFormed(receiver)
        #expect(try daemon.stop() == 0)
    }

    @Test("elasticsearch: mixed 201/409/429/400 items: the 429s alone sent again, the 400 dead-lettered, the 409 delivered")
    func elasticsearchItems() throws {
        let harness = HTTPHarness()
        let receiver = try receiver(
            harness,
            [
                "protocol": "elasticsearch",
                "item_rules": [
                    ["contains": #""seq":3,"#, "status": 429, "times": 1],
                    ["contains": #""seq":4,"#, "status": 429, "times": 1],
                    ["contains": #""seq":5,"#, "status": 400],
                    ["contains": #""seq":8,"#, "status": 409],
                ],
            ])
        harness.writeRecords(0..<20)
        let sink = """
            {"type": "http", "name": "es", "format": "elasticsearch", "url": "\(receiver.url)", "index": "logs-%Y.%m.%d",
             "batch_timeout_ms": 100, "dead_letter_path": "\(harness.deadLetters)"}
            """
        let daemon = try harness.start(sinks: sink)
        try waitUntil("20 written") {
            harness.sink("es")["records_written"] as? Int == 19 && harness.sink("es")["records_dead_lettered"] as? Int == 1
        }
        expectWellFormed(receiver)
        let requests = receiver.requests
        #expect(requests.map(\.records) == [20, 2])
        #expect(requests.allSatisfy { $0.path == "/_bulk" && $0.headers["Content-Type"] == "application/x-ndjson" })
        let items = receiver.items
        #expect(
            items.map { $0["status"] as? Int ?? 0 } == [201, 201, 201, 429, 429, 400, 201, 201, 409] + Array(repeating: 201, count: 11) + [201, 201])
        let ids = items.prefix(20).map { $0["id"] as? String ?? "" }
        #expect(Set(ids).count == 20)
        #expect(items.suffix(2).map { $0["id"] as? String ?? "" } == [ids[3], ids[4]])
        let today = { () -> String in
            let formatter = DateFormatter()
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy.MM.dd"
            return "logs-" + formatter.string(from: Date())
        }()
        #expect(items.allSatisfy { $0["index"] as? String == today })
        let stored = receiver.accepted.compactMap { try? Output.object($0)["seq"] as? Int }
        #expect(stored.sorted() == (0..<20).filter { $0 != 5 && $0 != 8 })
        let letter = try Output.object(try #require(Output.lines(harness.deadLetters).first))
        #expect(letter["status"] as? Int == 400)
        #expect((letter["response"] as? String)?.contains("mapper_parsing_exception") == true)
        #expect((letter["record"] as? [String: Any])?["seq"] as? Int == 5)
        try waitUntil("the checkpoint at the end") { harness.checkpointOffset() == harness.inputLines.reduce(0) { $0 + $1.utf8.count + 1 } }
        #expect(try daemon.stop() == 0)
    }

    @Test("elasticsearch: a replay after kill -9 is answered 409 for what landed, never stored twice; _ids stable for the file's first short lines")
    func elasticsearchReplay() throws {
        let harness = HTTPHarness()
        let receiver = try receiver(harness, ["protocol": "elasticsearch"])
        harness.writeRecords(0..<1)
        let sink = #"{"type": "http", "format": "elasticsearch", "url": "\#(receiver.url)", "batch_max_bytes": 8192, "batch_timeout_ms": 50}"#
        // The checkpoint is never written before the kill: the restart replays everything.
        let noCheckpoint = ["--input-checkpoint-interval-ms", "600000"]
        var daemon = try harness.start(sinks: sink, arguments: noCheckpoint)
        try waitUntil("the first record stored") { receiver.accepted.count >= 1 }
        harness.writeRecords(1..<2000)
        try waitUntil("2,000 stored") { receiver.accepted.count >= 2000 }
        daemon.signal(SIGKILL)
        _ = try daemon.waitForExit()
        #expect(harness.checkpointOffset() == 0)
        harness.writeRecords(2000..<2500)
        daemon = try harness.start(sinks: sink)
        try waitUntil("2,500 stored") { receiver.accepted.count >= 2500 }
        try waitUntil("every item answered") { receiver.items.count >= 4500 }
        let statuses = receiver.items.map { $0["status"] as? Int ?? 0 }
        #expect(statuses.filter { $0 == 409 }.count == 2000)
        #expect(statuses.filter { $0 == 201 }.count == 2500)
        let stored = receiver.accepted.compactMap { try? Output.object($0)["seq"] as? Int }
        #expect(stored.count == 2500 && Set(stored).count == 2500)
        expectWellFormed(receiver)
        #expect(try daemon.stop() == 0)
    }

    @Test("bad configurations for the formats stop start-up with exit 2 and the key")
    func badConfigurations() throws {
        let cases: [(String, String)] = [
            (#"{"type": "http", "url": "http://x", "format": "elasticsearch", "index": "Logs"}"#, "sinks[0].index: an index name cannot hold \"L\""),
            (#"{"type": "http", "url": "http://x", "format": "elasticsearch", "index": "logs-%H"}"#, "sinks[0].index: only %Y, %m and %d"),
            (
                #"{"type": "http", "url": "http://x", "format": "loki", "labels": {"app-name": "x"}}"#,
                "sinks[0].labels.app-name: not a Loki label name"
            ),
            (
                #"{"type": "http", "url": "http://x", "format": "loki", "label_fields": ["level", 5]}"#,
                "sinks[0].label_fields[1]: expected a non-empty string"
            ),
            (#"{"type": "http", "url": "http://x", "labels": {"a": "b"}}"#, "sinks[0].labels: only the loki format reads it, not ndjson"),
            (
                #"{"type": "http", "url": "http://x", "format": "loki", "message_key": "m"}"#,
                "sinks[0].message_key: only the otlp format reads it, not loki"
            ),
            (
                #"{"type": "http", "url": "http://x", "format": "otlp", "table": "t"}"#,
                "sinks[0].table: only the clickhouse format reads it, not otlp"
            ),
            (
                #"{"type": "http", "url": "http://x", "format": "otlp", "encoding": "xml"}"#,
                "sinks[0].encoding: expected one of json, protobuf, got \"xml\""
            ),
            (
                #"{"type": "http", "url": "http://x", "format": "loki", "encoding": "protobuf"}"#,
                "sinks[0].encoding: only the otlp format reads it, not loki"
            ),
        ]
        let harness = HTTPHarness()
        // What --check-config prints loads again, defaults and all.
        harness.directory.write(
            "config.json",
            #"{"sinks": [{"type": "http", "name": "a", "format": "otlp", "url": "http://x"}, {"type": "http", "name": "b", "format": "loki", "url": "http://y"}, {"type": "http", "name": "c", "format": "elasticsearch", "url": "http://z"}]}"#
        )
        let rendered = try DaemonProcess.run(["--config", harness.directory.file("config.json"), "--check-config"])
        #expect(rendered.status == 0)
        harness.directory.write("rendered.json", rendered.stdout)
        let again = try DaemonProcess.run(["--config", harness.directory.file("rendered.json"), "--check-config"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == rendered.stdout)
        for (sink, message) in cases {
            harness.directory.write("config.json", "{\"sinks\": [\(sink)]}")
            let result = try DaemonProcess.run(["--config", harness.directory.file("config.json"), "--check-config"])
            #expect(result.status == 2, "\(sink)")
            #expect(result.stderr.contains(message), "\(sink): \(result.stderr)")
        }
    }

    @Test(
        "--check-config masks credentials written in the file, prints header_env by name, and what it prints loads back to the same, the masks aside; start-up warns"
    )
    func secretsInCheckConfig() throws {
        let harness = HTTPHarness()
        harness.directory.write(
            "config.json",
            """
            {"sinks": [{"type": "http", "name": "ch", "format": "clickhouse", "table": "logs",
              "url": "http://ingest:pa55@127.0.0.1:8123/?user=ingest&password=hunter3&database=logs",
              "headers": {"Authorization": "Bearer abc", "X-API-Key": "k-123", "X-Tenant": "shop"},
              "header_env": {"X-ClickHouse-Key": "CH_KEY"}}]}
            """)
        let environment = ["CH_KEY": "from-the-environment"]
        let rendered = try DaemonProcess.run(["--config", harness.directory.file("config.json"), "--check-config"], environment: environment)
        #expect(rendered.status == 0, "\(rendered.stderr)")
        for secret in ["pa55", "hunter3", "Bearer abc", "k-123", "from-the-environment"] {
            #expect(!rendered.stdout.contains(secret), "\(secret) printed")
        }
        let sink = try #require(
            ((try JSONSerialization.jsonObject(with: Data(rendered.stdout.utf8)) as? [String: Any])?["sinks"] as? [[String: Any]])?.first)
        #expect(sink["url"] as? String == "http://ingest:***@127.0.0.1:8123/?user=ingest&password=***&database=logs")
        #expect(sink["headers"] as? [String: String] == ["Authorization": "***", "X-API-Key": "***", "X-Tenant": "shop"])
        #expect(sink["header_env"] as? [String: String] == ["X-ClickHouse-Key": "CH_KEY"])
        harness.directory.write("rendered.json", rendered.stdout)
        let again = try DaemonProcess.run(["--config", harness.directory.file("rendered.json"), "--check-config"], environment: environment)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == rendered.stdout, "the printed configuration means the same once loaded")

        // Started with it, the daemon says where the credentials are, never what they are.
        harness.writeRecords(0..<1)
        let daemon = try harness.start(
            sinks: #"{"type": "http", "url": "http://127.0.0.1:1/?password=hunter3", "headers": {"Authorization": "Bearer abc"}}"#,
            arguments: ["--shutdown-drain-timeout-ms", "300"])
        #expect(try daemon.stop() == 0)
        #expect(daemon.stderr.contains("a credential is written in the configuration's text"))
        #expect(daemon.stderr.contains("url,headers.Authorization"))
        #expect(!daemon.stderr.contains("hunter3") && !daemon.stderr.contains("Bearer abc"))
    }

    // MARK: - reading OTLP's JSON

    /// `[{"key", "value": AnyValue}]` as a dictionary of plain values.
    static func attributes(_ list: Any?) -> [String: Any] {
        var out: [String: Any] = [:]
        let entries = (list as? [String: Any])?["attributes"] as? [[String: Any]] ?? list as? [[String: Any]] ?? []
        for entry in entries { out[entry["key"] as? String ?? ""] = value(entry["value"]) ?? NSNull() }
        return out
    }

    /// Which `AnyValue` member each attribute used ("" for an empty one: null).
    static func kinds(_ list: Any?) -> [String: String] {
        var out: [String: String] = [:]
        for entry in list as? [[String: Any]] ?? [] { out[entry["key"] as? String ?? ""] = (entry["value"] as? [String: Any])?.keys.first ?? "" }
        return out
    }

    static func value(_ any: Any?) -> Any? {
        guard let value = any as? [String: Any] else { return nil }
        if let text = value["stringValue"] as? String { return text }
        if let text = value["intValue"] as? String { return Int(text) }
        if let number = value["doubleValue"] as? Double { return number }
        if let flag = value["boolValue"] as? Bool { return flag }
        if let list = (value["arrayValue"] as? [String: Any])?["values"] as? [Any] { return list.map { self.value($0) ?? NSNull() } }
        if let list = (value["kvlistValue"] as? [String: Any])?["values"] { return attributes(list) }
        return NSNull()
    }
}
