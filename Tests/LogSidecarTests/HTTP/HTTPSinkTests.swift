import Foundation
import Testing

/// The HTTP sink against a scripted receiver (Fixtures/scripted_http.py) for what a real server will
/// not do on demand: 413, 429 with Retry-After, a reset connection, a 200 with an error body, 401,
/// TLS with a private CA. The receiver checks every request as a strict ndjson receiver does.
@Suite("HTTP sink, scripted receiver")
struct HTTPSinkTests {
    func receiver(_ harness: HTTPHarness, _ rules: [[String: Any]] = [], tls: (cert: String, key: String)? = nil) throws -> ScriptedReceiver {
        try ScriptedReceiver(directory: harness.directory.file("receiver"), script: ["rules": rules], tls: tls)
    }

    /// A receiver answering `status` until the returned file exists, `records` records written, and the sink's config.
    func receiverDown(_ harness: HTTPHarness, status: Int, body: String, records: Int) throws -> (
        receiver: ScriptedReceiver, up: String, sink: String
    ) {
        let up = harness.directory.file("receiver-up")
        let receiver = try receiver(harness, [["until_file": up, "status": status, "body": body]])
        harness.writeRecords(0..<records)
        return (receiver, up, #"{"type": "http", "url": "\#(receiver.url)", "batch_timeout_ms": 50, "max_backoff_ms": 200}"#)
    }

    func expectWellFormed(_ receiver: ScriptedReceiver) {
        for request in receiver.requests { #expect(request.problems.isEmpty, "request \(request.number): \(request.problems)") }
    }

    @Test("ndjson: every record once and in order, gzip, batches within batch_max_bytes, headers and the secret sent, the secret never printed")
    func ndjson() throws {
        let harness = HTTPHarness()
        let receiver = try receiver(harness)
        harness.writeRecords(0..<3000)
        let sink = """
            {"type": "http", "name": "central", "url": "\(receiver.url)/ingest", "batch_max_bytes": 16384, "batch_timeout_ms": 100,
             "headers": {"X-Tenant": "shop"}, "header_env": {"Authorization": "LOGS_AUTHORIZATION"}}
            """
        let environment = ["LOGS_AUTHORIZATION": "Bearer s3cret-token"]
        let daemon = try harness.start(sinks: sink, environment: environment)
        try waitUntil("3,000 records accepted") { receiver.accepted.count >= 3000 }
        #expect(receiver.accepted == harness.inputLines)
        let requests = receiver.requests
        #expect(requests.count >= 10)
        for request in requests {
            #expect(request.path == "/ingest")
            #expect(request.encoding == "gzip")
            #expect(request.headers["X-Tenant"] == "shop")
            #expect(request.headers["Authorization"] == "Bearer s3cret-token")
            #expect(request.headers["Content-Type"] == "application/x-ndjson")
        }
        expectWellFormed(receiver)
        try waitUntil("records_written 3000") { harness.sink("central")["records_written"] as? Int == 3000 }
        #expect(harness.metrics().contains("log_sidecar_sink_requests_total{sink=\"central\",code=\"200\"} \(requests.count)"))
        #expect(try daemon.stop() == 0)
        #expect(harness.checkpointOffset() == harness.inputLines.reduce(0) { $0 + $1.utf8.count + 1 })

        let check = try DaemonProcess.run(["--config", harness.directory.file("config.json"), "--check-config"], environment: environment)
        #expect(check.status == 0)
        #expect(check.stdout.contains(#""Authorization": "LOGS_AUTHORIZATION""#), "header_env prints the variable's name")
        #expect(!check.stdout.contains("s3cret"))
    }

    @Test(
        "a batch of 64 KiB or more leaves as two requests written at once, posted in order: a 503 on the first sends it again before the second, a refused record is split out of the second, the rest arrive once and in order"
    )
    func splitBatch() throws {
        let harness = HTTPHarness()
        let receiver = try receiver(
            harness, [["request": 1, "status": 503, "body": "unavailable"], ["contains": #""seq":2500,"#, "status": 400, "body": "bad record"]])
        harness.writeRecords(0..<4000)
        let sink = """
            {"type": "http", "url": "\(receiver.url)", "batch_timeout_ms": 300, "max_backoff_ms": 200, "dead_letter_path": "\(harness.deadLetters)"}
            """
        let daemon = try harness.start(sinks: sink)
        try waitUntil("3,999 records accepted") { receiver.accepted.count >= 3999 }
        try waitUntil("one dead letter") { harness.sink("http")["records_dead_lettered"] as? Int == 1 }
        let input = harness.inputLines
        #expect(input.reduce(0) { $0 + $1.utf8.count + 1 } >= 128 << 10)
        #expect(receiver.accepted == Array(input[..<2500] + input[2501...]))
        let requests = receiver.requests
        try #require(requests.count >= 3)
        // One batch (the input is read well within the timeout), two halves of it by bytes.
        let first = requests[0].records
        #expect(requests[0].status == 503 && requests[1].status == 200 && requests[1].records == first)
        #expect(first >= 1800 && first <= 2200, "the first half held \(first) of 4,000 records")
        #expect(requests[2].status == 400 && requests[2].records == 4000 - first)
        #expect(requests.allSatisfy { $0.encoding == "gzip" })
        let letter = try Output.object(try #require(Output.lines(harness.deadLetters).first))
        #expect((letter["record"] as? [String: Any])?["seq"] as? Int == 2500)
        try waitUntil("records_written 3999") { harness.sink("http")["records_written"] as? Int == 3999 }
        expectWellFormed(receiver)
        #expect(try daemon.stop() == 0)
        #expect(harness.checkpointOffset() == input.reduce(0) { $0 + $1.utf8.count + 1 })
    }

    @Test("413 halves the batch until it fits; a record too large alone is dead-lettered with the status, the rest delivered")
    func payloadTooLarge() throws {
        let harness = HTTPHarness()
        let receiver = try receiver(
            harness, [["max_records": 40, "status": 413, "body": "too many"], ["max_bytes": 6000, "status": 413, "body": "entity too large"]])
        harness.writeRecords(0..<500)
        harness.writeRecords(500..<501, pad: 8000)
        harness.writeRecords(501..<1000)
        let sink = """
            {"type": "http", "url": "\(receiver.url)", "compression": "none", "batch_timeout_ms": 50, "dead_letter_path": "\(harness.deadLetters)"}
            """
        let daemon = try harness.start(sinks: sink)
        try waitUntil("999 records accepted") { receiver.accepted.count >= 999 }
        try waitUntil("one dead letter") { harness.sink("http")["records_dead_lettered"] as? Int == 1 }
        let input = harness.inputLines
        #expect(receiver.accepted == Array(input[0..<500] + input[501...]))
        #expect(receiver.requests.contains { $0.status == 413 && $0.records > 40 })
        #expect(receiver.requests.filter { $0.status == 200 }.allSatisfy { $0.records <= 40 })
        let letters = Output.lines(harness.deadLetters)
        #expect(letters.count == 1)
        let letter = try Output.object(try #require(letters.first))
        #expect(letter["status"] as? Int == 413)
        #expect(letter["response"] as? String == "entity too large")
        #expect((letter["record"] as? [String: Any])?["seq"] as? Int == 500)
        #expect(letter["sink"] as? String == "http")
        try waitUntil("records_written 999") { harness.sink("http")["records_written"] as? Int == 999 }
        #expect(harness.metrics().contains("log_sidecar_records_dead_lettered_total{sink=\"http\"} 1"))
        expectWellFormed(receiver)
        #expect(try daemon.stop() == 0)
    }

    @Test(
        "429 with Retry-After, as seconds (2) or as an HTTP date (3 s ahead, whole seconds), waits that long, then everything arrives once",
        arguments: [false, true])
    func retryAfter(asDate: Bool) throws {
        let harness = HTTPHarness()
        let rule: [String: Any] =
            asDate
            ? ["request": 1, "status": 429, "retry_after_date_in": 3, "body": "slow down"]
            : ["request": 1, "status": 429, "headers": ["Retry-After": "2"], "body": "slow down"]
        let receiver = try receiver(harness, [rule])
        harness.writeRecords(0..<200)
        let daemon = try harness.start(sinks: #"{"type": "http", "url": "\#(receiver.url)", "batch_timeout_ms": 50}"#)
        try waitUntil("200 records accepted") { receiver.accepted.count >= 200 }
        let requests = receiver.requests
        #expect(requests.count == 2)
        #expect(requests.first?.status == 429)
        if requests.count == 2 {
            let waited = requests[1].time - requests[0].time
            // Not before the time asked; the upper bound leaves a loaded machine 1.5 s beyond the
            // 3 s a date can mean (whole seconds).
            #expect(waited >= 1.95 && waited < 4.5, "waited \(waited) s")
        }
        #expect(receiver.accepted == harness.inputLines)
        try waitUntil("one retry counted") { harness.sink("http")["retries"] as? Int == 1 }
        #expect(harness.metrics().contains("log_sidecar_sink_requests_total{sink=\"http\",code=\"429\"} 1"))
        #expect(try daemon.stop() == 0)
    }

    @Test("clickhouse format: a connection reset mid-request and a 200 whose body is an exception are retried, not taken as delivered")
    func resetAndErrorBody() throws {
        let harness = HTTPHarness()
        let receiver = try receiver(
            harness,
            [
                ["request": 1, "reset": true],
                ["request": 2, "status": 200, "rejects": true, "body": "Code: 241, e.displayText() = DB::Exception: Memory limit (total) exceeded"],
            ])
        harness.writeRecords(0..<300)
        let sink =
            #"{"type": "http", "format": "clickhouse", "url": "\#(receiver.url)/", "table": "logs", "database": "app", "batch_timeout_ms": 50}"#
        let daemon = try harness.start(sinks: sink)
        try waitUntil("300 records accepted") { receiver.accepted.count >= 300 }
        let requests = receiver.requests
        #expect(requests.map(\.status) == [0, 200, 200])
        #expect(
            requests.allSatisfy {
                $0.path == "/?query=INSERT%20INTO%20%60app%60.%60logs%60%20FORMAT%20JSONEachRow&input_format_skip_unknown_fields=1"
            })
        #expect(receiver.accepted == harness.inputLines)
        try waitUntil("two retries counted") { harness.sink("http")["retries"] as? Int == 2 }
        #expect((harness.sink("http")["last_error"] as? String)?.contains("Code: 241") == true)
        #expect(try daemon.stop() == 0)
    }

    @Test("401 is a configuration problem: retried with backoff and shown on /health, never dead-lettered")
    func unauthorized() throws {
        let harness = HTTPHarness()
        let fixed = harness.directory.file("credentials-fixed")
        let receiver = try receiver(harness, [["until_file": fixed, "status": 401, "body": "bad token"]])
        harness.writeRecords(0..<100)
        let sink =
            #"{"type": "http", "url": "\#(receiver.url)", "batch_timeout_ms": 50, "max_backoff_ms": 200, "dead_letter_path": "\#(harness.deadLetters)"}"#
        let daemon = try harness.start(sinks: sink)
        try waitUntil("the sink shown failing with the 401") {
            (harness.sink("http")["last_error"] as? String)?.contains("HTTP 401: bad token") == true
                && (harness.sink("http")["failing_for_ms"] as? Int ?? 0) > 0
        }
        try waitUntil("several retries") { (harness.sink("http")["retries"] as? Int ?? 0) >= 3 }
        #expect(daemon.stderr.contains("HTTP 401"))
        _ = FileManager.default.createFile(atPath: fixed, contents: nil)
        try waitUntil("100 records accepted") { receiver.accepted.count >= 100 }
        #expect(receiver.accepted == harness.inputLines)
        try waitUntil("the sink recovered") { harness.sink("http")["failing_for_ms"] as? Int == 0 }
        #expect(!FileManager.default.fileExists(atPath: harness.deadLetters))
        #expect(try daemon.stop() == 0)
    }

    @Test("the checkpoint waits for the receiver: while it answers 503 nothing is acknowledged; kill -9 and a restart lose nothing")
    func checkpointFollowsAcknowledgement() throws {
        let harness = HTTPHarness()
        let (receiver, up, sink) = try receiverDown(harness, status: 503, body: "unavailable", records: 1000)
        let daemon = try harness.start(sinks: sink)
        try waitUntil("several refused requests") { receiver.requests.count >= 3 }
        try waitUntil("the lines read") { (harness.health()["lines_read"] as? Int) == 1000 }
        // Five checkpoint intervals (200 ms) pass with every line read but none acknowledged.
        Thread.sleep(forTimeInterval: 1)
        #expect(harness.checkpointOffset() == 0)
        // What the sink holds for the receiver is shown: every record (no enrichment here: the input's bytes).
        let held = harness.inputLines.reduce(0) { $0 + $1.utf8.count + 1 }
        #expect(harness.sink("http")["unacknowledged_bytes"] as? Int == held)
        #expect(harness.metrics().contains("log_sidecar_sink_unacknowledged_bytes{sink=\"http\"} \(held)"))
        daemon.signal(SIGKILL)
        _ = try daemon.waitForExit()
        _ = FileManager.default.createFile(atPath: up, contents: nil)
        let restarted = try harness.start(sinks: sink)
        try waitUntil("1,000 records accepted") { receiver.accepted.count >= 1000 }
        #expect(receiver.accepted == harness.inputLines)
        try waitUntil("the checkpoint at the end") { harness.checkpointOffset() == harness.inputLines.reduce(0) { $0 + $1.utf8.count + 1 } }
        #expect(harness.sink("http")["unacknowledged_bytes"] as? Int == 0)
        #expect(try restarted.stop() == 0)
    }

    @Test("SIGTERM while the receiver is down: exit 0 at the drain timeout, nothing acknowledged, the next start delivers it")
    func shutdownDuringOutage() throws {
        let harness = HTTPHarness()
        let (receiver, up, sink) = try receiverDown(harness, status: 502, body: "bad gateway", records: 100)
        let daemon = try harness.start(sinks: sink, extra: #""shutdown": {"drain_timeout_ms": 1500}, "#)
        try waitUntil("a refused request") { !receiver.requests.isEmpty }
        let stopping = Date()
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
        let took = Date().timeIntervalSince(stopping)
        #expect(took >= 1.4 && took < 4, "stopped after \(took) s")
        #expect(harness.checkpointOffset() == 0)
        #expect(daemon.stderr.contains("not everything could be shipped"))
        _ = FileManager.default.createFile(atPath: up, contents: nil)
        let restarted = try harness.start(sinks: sink)
        try waitUntil("100 records accepted") { receiver.accepted.count >= 100 }
        #expect(receiver.accepted == harness.inputLines)
        #expect(try restarted.stop() == 0)
    }

    @Test("TLS: a private CA named by tls_ca_file is trusted; without it the certificate is refused and shown")
    func tls() throws {
        let harness = HTTPHarness()
        let dir = harness.directory.path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/bin/sh")
        openssl.arguments = [
            "-c",
            """
            cd \(dir) && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca 2>/dev/null \
            && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null \
            && printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf \
            && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf 2>/dev/null
            """,
        ]
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0)
        let receiver = try receiver(harness, tls: (cert: harness.directory.file("server.pem"), key: harness.directory.file("server.key")))
        harness.writeRecords(0..<50)
        let url = "https://127.0.0.1:\(receiver.port)/"
        let sinks = """
            {"type": "http", "name": "trusting", "url": "\(url)", "batch_timeout_ms": 50, "tls_ca_file": "\(harness.directory.file("ca.pem"))"},
            {"type": "http", "name": "system", "url": "\(url)", "batch_timeout_ms": 50, "max_backoff_ms": 200}
            """
        let daemon = try harness.start(sinks: sinks)
        try waitUntil("50 records accepted") { receiver.accepted.count >= 50 }
        #expect(receiver.accepted == harness.inputLines)
        try waitUntil("the untrusted certificate shown") {
            (harness.sink("system")["last_error"] as? String)?.lowercased().contains("certificate") == true
        }
        #expect(harness.sink("system")["records_written"] as? Int == 0)
        expectWellFormed(receiver)
        daemon.signal(SIGKILL)
        _ = try daemon.waitForExit()
    }

    @Test("bad HTTP sink configurations stop start-up with exit 2 and the key at fault")
    func badConfigurations() throws {
        let directory = TestDirectory()
        let cases: [(String, String)] = [
            (#"{"type": "http"}"#, "sinks[0].url: an http sink needs a url"),
            (#"{"type": "http", "url": "ftp://x"}"#, "sinks[0].url: expected an http:// or https:// URL"),
            (#"{"type": "http", "url": "http://x", "format": "clickhouse"}"#, "sinks[0].table: the clickhouse format needs the table"),
            (
                #"{"type": "http", "url": "http://x", "format": "gelf"}"#,
                "sinks[0].format: expected one of ndjson, clickhouse, otlp, loki, elasticsearch, got \"gelf\""
            ),
            (#"{"type": "http", "url": "http://x", "format": "clickhouse", "table": "a;drop"}"#, "sinks[0].table: expected a name of letters"),
            (
                #"{"type": "http", "url": "http://x", "header_env": {"Authorization": "NOT_SET_ANYWHERE"}}"#,
                "sinks[0].header_env.Authorization: the environment variable NOT_SET_ANYWHERE is not set"
            ),
            (#"{"type": "http", "url": "http://x", "headers": {"Bad Name": "x"}}"#, "sinks[0].headers.Bad Name: not a valid header name"),
            (#"{"type": "http", "url": "http://x", "batch_max_bytes": 10}"#, "sinks[0].batch_max_bytes: 10 is out of range"),
            (#"{"type": "http", "url": "http://x", "compression": "zstd"}"#, "sinks[0].compression: expected one of gzip, none"),
            (#"{"type": "http", "url": "http://x", "path": "/tmp/x"}"#, "sinks[0].path: unknown key for a http sink"),
        ]
        for (sink, message) in cases {
            directory.write("config.json", "{\"sinks\": [\(sink)]}")
            let result = try DaemonProcess.run(["--config", directory.file("config.json"), "--check-config"])
            #expect(result.status == 2, "\(sink)")
            #expect(result.stderr.contains(message), "\(sink): \(result.stderr)")
        }
    }
}
