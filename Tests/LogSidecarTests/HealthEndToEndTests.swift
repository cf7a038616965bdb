import Foundation
import Testing

/// The health server of the real daemon, on a real loopback port.
@Suite("Health, readiness and metrics")
struct HealthEndToEndTests {
    func startWithHealth(_ scenario: Scenario, _ extra: [String] = []) throws -> (DaemonProcess, Int) {
        let port = HTTPClient.freePort()
        let daemon = try scenario.start(["--health-address", "127.0.0.1", "--health-port", "\(port)"] + extra)
        try waitUntil("the health server") { HTTPClient.get(port: port, "/healthz") != nil }
        return (daemon, port)
    }

    @Test("after 10,000 lines every endpoint answers and the counters are exact")
    func endpoints() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 9_998)
        writer.writeRaw("not json\n\n")
        let (daemon, port) = try startWithHealth(scenario)
        try scenario.waitForShipped(9_999)
        try waitUntil("the counters") {
            HTTPClient.get(port: port, "/health")?.body.contains("\"lines_processed\":10000") == true
        }
        #expect(HTTPClient.get(port: port, "/healthz")?.status == 200)
        #expect(HTTPClient.get(port: port, "/readyz")?.status == 200)
        let health = try #require(HTTPClient.get(port: port, "/health"))
        let object = try Output.object(Substring(health.body))
        #expect(object["status"] as? String == "ok")
        #expect(object["lines_read"] as? Int == 10_000)
        #expect(object["parse_errors"] as? Int == 1)
        #expect(object["empty_lines"] as? Int == 1)
        #expect(object["bytes_read"] as? Int == (try FileManager.default.attributesOfItem(atPath: scenario.input)[.size] as? Int))
        let sinks = try #require(object["sinks"] as? [[String: Any]])
        #expect(sinks.first?["records_written"] as? Int == 9_999)

        // The lag counts from the checkpoint written last, which follows within a checkpoint interval.
        try waitUntil("the checkpoint written") { HTTPClient.get(port: port, "/metrics")?.body.contains("log_sidecar_lag_bytes 0\n") == true }
        let metrics = try #require(HTTPClient.get(port: port, "/metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("log_sidecar_lines_read_total 10000\n"))
        #expect(metrics.body.contains("log_sidecar_records_written_total{sink=\"stdout\"} 9999\n"))
        #expect(metrics.body.contains("log_sidecar_lag_bytes 0\n"))
        try PrometheusParser.check(
            metrics.body,
            expecting: [
                "log_sidecar_lines_read_total", "log_sidecar_bytes_read_total", "log_sidecar_records_written_total",
                "log_sidecar_sink_errors_total", "log_sidecar_parse_errors_total", "log_sidecar_lines_truncated_total",
                "log_sidecar_rotations_total", "log_sidecar_truncations_total", "log_sidecar_lag_bytes",
                "log_sidecar_checkpoint_offset_bytes",
            ])
        #expect(try daemon.stop() == 0)
    }

    @Test("/readyz is 503 until the input file exists, then 200")
    func readiness() throws {
        let scenario = Scenario()
        let (daemon, port) = try startWithHealth(scenario)
        #expect(HTTPClient.get(port: port, "/readyz")?.status == 503)
        #expect(HTTPClient.get(port: port, "/healthz")?.status == 200)
        LogWriter(path: scenario.input).write(count: 1)
        try waitUntil("readiness") { HTTPClient.get(port: port, "/readyz")?.status == 200 }
        #expect(try daemon.stop() == 0)
    }

    @Test("/healthz turns 503 while the only sink is stalled past the threshold, and 200 after")
    func stalledSink() throws {
        let scenario = Scenario()
        let stalled = StalledFifo(in: scenario.directory)
        defer { withExtendedLifetime(stalled) {} }
        let fifo = stalled.path
        let reader = stalled.reader
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 5_000)
        let (daemon, port) = try startWithHealth(
            scenario,
            [
                "--sinks", "file:\(fifo)", "--health-stall-timeout-ms", "500",
            ])
        // "no progress" may come first (the lag shows from the first pass); the batch's wait follows.
        try waitUntil("/healthz to report the batch waiting on the stalled sink") {
            guard let response = HTTPClient.get(port: port, "/healthz") else { return false }
            return response.status == 503 && response.body.contains("waited")
        }
        // Drain the pipe: the sink moves again and health comes back.
        var sink = [UInt8](repeating: 0, count: 1 << 16)
        var received = 0
        try waitUntil("every record through the fifo") {
            let n = read(reader, &sink, sink.count)
            if n > 0 { received += sink[0..<n].filter { $0 == 0x0A }.count }
            return received >= 5_000
        }
        try waitUntil("/healthz to recover") { HTTPClient.get(port: port, "/healthz")?.status == 200 }
        #expect(try daemon.stop() == 0)
    }

    @Test("bad requests get the right status or a closed connection, and shipping goes on")
    func badRequests() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        let (daemon, port) = try startWithHealth(scenario)
        #expect(HTTPClient.get(port: port, "/nope")?.status == 404)
        #expect(HTTPClient.get(port: port, "/healthz", method: "POST")?.status == 405)
        #expect(HTTPClient.get(port: port, "/metrics", method: "DELETE")?.status == 405)
        // A 1 MiB header: refused (400/431) or closed, never accepted.
        let huge = HTTPClient.request(port: port, "GET /healthz HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 1 << 20))\r\n\r\n")
        #expect(huge == nil || [400, 431].contains(huge!.status))
        // Garbage bytes.
        let garbage = HTTPClient.request(port: port, "\u{1}\u{2}\u{3} nonsense \r\n\r\n")
        #expect(garbage == nil || garbage!.status == 400)
        // A slow client that sends half a request and goes away, and one that stays silent.
        let half = try #require(HTTPClient.connect(port: port))
        HTTPClient.send(half, Array("GET /hea".utf8))
        close(half)
        let silent = try #require(HTTPClient.connect(port: port))
        defer { close(silent) }
        HTTPClient.send(silent, Array("GET /healthz HTTP/1.1\r\nHost: x\r\n".utf8))
        // Meanwhile the daemon ships and answers others.
        writer.write(count: 1000)
        try scenario.waitForShipped(1000)
        #expect(HTTPClient.get(port: port, "/healthz")?.status == 200)
        #expect(try daemon.stop() == 0)
        #expect(scenario.shipped == Array(0..<1000))
    }

    @Test("one connection carries pipelined requests: kept alive under HTTP/1.1, HEAD without a body, closed after HTTP/1.0")
    func keepAlive() throws {
        let scenario = Scenario()
        LogWriter(path: scenario.input).write(count: 1)
        let (daemon, port) = try startWithHealth(scenario)
        let fd = try #require(HTTPClient.connect(port: port))
        defer { close(fd) }
        HTTPClient.send(fd, Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nHEAD /metrics HTTP/1.1\r\n\r\nGET /readyz HTTP/1.0\r\n\r\n".utf8))
        // HTTP/1.0 without keep-alive closes after its answer, so reading to the end returns.
        let answers = String(decoding: HTTPClient.readAll(fd), as: UTF8.self).components(separatedBy: "\r\n\r\n")
        try #require(answers.count == 4, "\(answers)")
        #expect(answers[0].hasPrefix("HTTP/1.1 200 OK\r\n") && answers[0].contains("connection: keep-alive"))
        #expect(answers[1].hasPrefix("ok\nHTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4"))
        // HEAD's answer has the length of the body it leaves out: the next answer follows at once.
        #expect(!answers[1].contains("content-length: 0\r"))
        #expect(answers[2].hasPrefix("HTTP/1.0 200 OK\r\n") && answers[2].contains("connection: close"))
        #expect(answers[3] == "ready\n")
        #expect(try daemon.stop() == 0)
    }

    @Test("200 /metrics scrapes a second for 10 s while shipping 10,000 lines/s: no line lost, no error")
    func scrapesUnderLoad() throws {
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 1)
        let (daemon, port) = try startWithHealth(scenario)
        let scrapes = ScrapeLoad.start(port: port, perSecond: 200, seconds: 10, concurrency: 8)
        writer.run(rate: 10_000, seconds: 10, rotation: .none)
        let result = scrapes.wait()
        try scenario.waitForShipped(writer.written)
        #expect(try daemon.stop() == 0)
        #expect(result.failed == 0, "\(result.failed) of \(result.done) scrapes failed")
        #expect(result.done >= 1_500)
        #expect(scenario.shipped == Array(0..<writer.written))
        print("scrapes: \(result.done) in 10 s, \(result.failed) failed; \(writer.written) lines shipped")
    }
}
