import Foundation
import Testing

/// The HTTP sink's `clickhouse` format against a real clickhouse-server (Debian's 18.16), started per
/// test on a loopback port with its data in the test's directory. Serialized: each server takes a
/// core for its start and its merges.
@Suite(
    "ClickHouse sink, real server", .serialized, .enabled(if: ClickHouseServer.isInstalled, "clickhouse-server is not installed (scripts/setup.sh)"))
struct ClickHouseSinkTests {
    static let table = "CREATE TABLE default.logs (seq UInt64, level String, msg String) ENGINE = MergeTree ORDER BY seq"

    func server(_ harness: HTTPHarness, table: Bool = true) throws -> ClickHouseServer {
        let server = try ClickHouseServer(directory: harness.directory.file("clickhouse"))
        if table { try server.query(Self.table) }
        return server
    }

    func sink(_ server: ClickHouseServer, _ extra: String = "") -> String {
        #"{"type": "http", "name": "clickhouse", "format": "clickhouse", "url": "\#(server.url)", "table": "logs", "max_backoff_ms": 1000\#(extra)}"#
    }

    func distinct(_ server: ClickHouseServer) -> Int {
        Int((try? server.query("SELECT uniqExact(seq) FROM default.logs"))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
    }

    @Test("200,000 lines: count() equals the lines and every value round-trips")
    func roundTrip() throws {
        let harness = HTTPHarness()
        let server = try server(harness)
        harness.writeRecords(0..<200_000)
        let daemon = try harness.start(sinks: sink(server))
        try waitUntil("200,000 rows", seconds: 120, every: 0.5) { (try? server.count("default.logs")) == 200_000 }
        #expect(distinct(server) == 200_000)
        let rows = try server.query("SELECT seq, level, msg FROM default.logs ORDER BY seq FORMAT JSONEachRow")
        let stored = rows.split(separator: "\n")
        let input = harness.inputLines
        try #require(stored.count == input.count)
        for index in stride(from: 0, to: input.count, by: 1) where index % 7 == 0 || index == input.count - 1 {
            let row = try Output.object(stored[index])
            let record = try Output.object(input[index])
            // ClickHouse's JSON output quotes UInt64.
            #expect(row["seq"] as? String == String(index))
            #expect(row["level"] as? String == record["level"] as? String)
            #expect(row["msg"] as? String == record["msg"] as? String)
        }
        #expect(harness.sink("clickhouse")["records_written"] as? Int == 200_000)
        #expect(try daemon.stop() == 0)
    }

    @Test("ClickHouse killed with -9 and restarted while 5,000 lines/s flow for 20 s: nothing lost, at most one batch twice, /health showed it")
    func serverKilled() throws {
        let harness = HTTPHarness()
        let server = try server(harness)
        let total = 100_000
        harness.writeRecords(0..<50)
        let daemon = try harness.start(sinks: sink(server, #", "batch_max_bytes": 1048576"#))
        let writer = Thread {
            let start = Date()
            for step in 1..<(total / 50) {
                let due = start.addingTimeInterval(Double(step) * 0.01)
                let wait = due.timeIntervalSinceNow
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
                harness.writeRecords((step * 50)..<(step * 50 + 50))
            }
        }
        writer.start()
        try waitUntil("rows arriving", seconds: 30) { ((try? server.count("default.logs")) ?? 0) >= 10_000 }
        server.kill()
        try waitUntil("/health to show the sink failing") {
            (harness.sink("clickhouse")["failing_for_ms"] as? Int ?? 0) > 0
        }
        Thread.sleep(forTimeInterval: 3)
        try server.start()
        try waitUntil("every line in ClickHouse", seconds: 90, every: 0.5) { distinct(server) == total }
        let rows = try server.count("default.logs")
        // One batch: at most batch_max_bytes (1 MiB) of ~110-byte records.
        #expect(rows - total <= 10_000, "\(rows - total) rows twice")
        try waitUntil("/health to show the sink recovered") { harness.sink("clickhouse")["failing_for_ms"] as? Int == 0 }
        #expect(daemon.stderr.contains("sink recovered"))
        #expect(try daemon.stop() == 0)
    }

    @Test("log-sidecar killed with -9 mid-stream and started again: nothing lost")
    func shipperKilled() throws {
        let harness = HTTPHarness()
        let server = try server(harness)
        harness.writeRecords(0..<100_000)
        let daemon = try harness.start(sinks: sink(server, #", "batch_max_bytes": 65536"#))
        try waitUntil("rows arriving", seconds: 30) { ((try? server.count("default.logs")) ?? 0) >= 5_000 }
        daemon.signal(SIGKILL)
        _ = try daemon.waitForExit()
        #expect(((try? server.count("default.logs")) ?? 0) < 100_000)
        harness.writeRecords(100_000..<150_000)
        let restarted = try harness.start(sinks: sink(server, #", "batch_max_bytes": 65536"#))
        try waitUntil("every line in ClickHouse", seconds: 90, every: 0.5) { distinct(server) == 150_000 }
        #expect(try restarted.stop() == 0)
    }

    @Test("a missing table (404, Code: 60) is retried with backoff and shown; once created, everything arrives; nothing dead-lettered")
    func missingTable() throws {
        let harness = HTTPHarness()
        let server = try server(harness, table: false)
        harness.writeRecords(0..<1000)
        let daemon = try harness.start(sinks: sink(server))
        try waitUntil("/health to show the missing table") {
            let sink = harness.sink("clickhouse")
            return (sink["last_error"] as? String)?.contains("HTTP 404, ClickHouse code 60") == true && (sink["failing_for_ms"] as? Int ?? 0) > 0
        }
        try waitUntil("retries") { (harness.sink("clickhouse")["retries"] as? Int ?? 0) >= 2 }
        try server.query(Self.table)
        try waitUntil("1,000 rows", seconds: 30) { (try? server.count("default.logs")) == 1000 }
        try waitUntil("the sink recovered") { harness.sink("clickhouse")["failing_for_ms"] as? Int == 0 }
        #expect(harness.sink("clickhouse")["records_dead_lettered"] as? Int == 0)
        #expect(!FileManager.default.fileExists(atPath: harness.directory.file("state/dead-letter-clickhouse.jsonl")))
        #expect(try daemon.stop() == 0)
    }

    @Test("\"seq\":\"abc\" into a UInt64 column (500, Code: 27): the batch is split, that record dead-lettered, every other one stored")
    func typeMismatch() throws {
        let harness = HTTPHarness()
        let server = try server(harness)
        harness.writeRecords(0..<500)
        harness.directory.append("logs/app.log", "{\"seq\":\"abc\",\"level\":\"info\",\"msg\":\"not a number\"}\n")
        harness.writeRecords(501..<1000)
        let daemon = try harness.start(sinks: sink(server))
        try waitUntil("999 rows", seconds: 30) { (try? server.count("default.logs")) == 999 }
        try waitUntil("the dead letter counted") { harness.sink("clickhouse")["records_dead_lettered"] as? Int == 1 }
        #expect(distinct(server) == 999)
        let letters = Output.lines(harness.directory.file("state/dead-letter-clickhouse.jsonl"))
        try #require(letters.count == 1)
        let letter = try Output.object(letters[0])
        #expect(letter["status"] as? Int == 500)
        #expect((letter["response"] as? String)?.hasPrefix("Code: 27") == true)
        #expect((letter["record"] as? [String: Any])?["seq"] as? String == "abc")
        #expect(harness.sink("clickhouse")["records_written"] as? Int == 999)
        #expect(harness.metrics().contains("log_sidecar_records_dead_lettered_total{sink=\"clickhouse\"} 1"))
        #expect(try daemon.stop() == 0)
    }

    @Test("stdout and ClickHouse together: ClickHouse down loses no stdout record, and both end with every record once")
    func stdoutBeside() throws {
        let harness = HTTPHarness()
        let server = try server(harness)
        server.kill()
        harness.writeRecords(0..<2000)
        let daemon = try harness.start(sinks: #"{"type": "stdout"}, "# + sink(server))
        try harness.scenario.waitForShipped(2000)
        try waitUntil("/health to show ClickHouse failing") { (harness.sink("clickhouse")["failing_for_ms"] as? Int ?? 0) > 0 }
        #expect(harness.checkpointOffset() == 0)
        try server.start()
        try waitUntil("2,000 rows", seconds: 30) { (try? server.count("default.logs")) == 2000 }
        #expect(Output.lines(harness.scenario.output) == harness.inputLines)
        #expect(try daemon.stop() == 0)
        #expect(Output.lines(harness.scenario.output) == harness.inputLines)
    }
}
