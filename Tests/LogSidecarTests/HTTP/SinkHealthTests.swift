import Foundation
import Testing

/// What the operator sees while a receiver is down or refuses everything: the sink reads failing until
/// its receiver acknowledges something, and the lag counts from the checkpoint actually written.
@Suite("HTTP sink health as the operator sees it")
struct SinkHealthTests {
    @Test("a receiver down for 10 s under load: failing_for_ms grows without a reset, /healthz turns 503, recovered is logged once when it is back")
    func receiverDownUnderLoad() throws {
        let harness = HTTPHarness()
        let port = HTTPClient.freePort()
        let sink = #"{"type": "http", "url": "http://127.0.0.1:\#(port)", "batch_timeout_ms": 100, "max_backoff_ms": 400}"#
        harness.writeRecords(0..<1)
        let daemon = try harness.start(sinks: sink, extra: #""health": {"sink_failure_timeout_ms": 1000}, "#)
        var samples: [Int] = []
        var unhealthySeen = false
        var written = 1
        let start = Date()
        while Date().timeIntervalSince(start) < 10 {
            harness.writeRecords(written..<(written + 1))
            written += 1
            let failing = harness.sink("http")["failing_for_ms"] as? Int ?? -1
            samples.append(failing)
            if Date().timeIntervalSince(start) > 3 {
                let healthz = HTTPClient.get(port: harness.healthPort, "/healthz")?.status
                #expect(healthz == 503, "at \(Date().timeIntervalSince(start)) s: /healthz \(String(describing: healthz)), failing_for_ms \(failing)")
                unhealthySeen = unhealthySeen || healthz == 503
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        // Once failing, never back to 0 and never smaller while nothing is acknowledged.
        let failing = samples.drop { $0 <= 0 }
        #expect(failing.count >= 40, "failing_for_ms over the outage: \(samples)")
        #expect(zip(failing, failing.dropFirst()).allSatisfy { $0 < $1 }, "failing_for_ms went back: \(samples)")
        #expect(unhealthySeen)
        #expect(!daemon.stderr.contains("sink recovered"))
        #expect(harness.sink("http")["records_written"] as? Int == 0)

        let receiver = try ScriptedReceiver(directory: harness.directory.file("receiver"), script: ["rules": [], "port": port])
        try waitUntil("every record accepted", seconds: 30) { receiver.accepted.count >= written }
        try waitUntil("the sink recovered") { harness.sink("http")["failing_for_ms"] as? Int == 0 }
        #expect(HTTPClient.get(port: harness.healthPort, "/healthz")?.status == 200)
        #expect(receiver.accepted == harness.inputLines)
        #expect(try daemon.stop() == 0)
        #expect(daemon.stderr.components(separatedBy: "sink recovered").count - 1 == 1, "\(daemon.stderr)")
    }

    @Test("a receiver that refuses every record (400) reads failing with its answer, in /health, /healthz and the log, until it accepts one")
    func receiverRefusesEverything() throws {
        let harness = HTTPHarness()
        let fixed = harness.directory.file("table-created")
        let receiver = try ScriptedReceiver(
            directory: harness.directory.file("receiver"),
            script: ["rules": [["until_file": fixed, "status": 400, "body": "Code: 60. DB::Exception: Table default.logs does not exist"]]])
        let sink = """
            {"type": "http", "url": "\(receiver.url)", "batch_timeout_ms": 100, "max_backoff_ms": 200, "dead_letter_path": "\(harness.deadLetters)"}
            """
        harness.writeRecords(0..<5)
        let daemon = try harness.start(sinks: sink, extra: #""health": {"sink_failure_timeout_ms": 1000}, "#)
        var written = 5
        try waitUntil("the sink unhealthy with the receiver's answer", seconds: 20) {
            harness.writeRecords(written..<(written + 5))
            written += 5
            Thread.sleep(forTimeInterval: 0.1)
            let health = harness.health()
            return health["status"] as? String == "unhealthy"
                && ((health["problems"] as? [String]) ?? []).contains {
                    $0.contains("sink http failing") && $0.contains("Table default.logs does not exist")
                }
        }
        #expect(HTTPClient.get(port: harness.healthPort, "/healthz")?.status == 503)
        #expect((harness.sink("http")["records_dead_lettered"] as? Int ?? 0) > 0)
        #expect(harness.sink("http")["records_written"] as? Int == 0)
        try waitUntil("the log says the sink failed") { daemon.stderr.contains("sink failed: the receiver has refused every record") }

        _ = FileManager.default.createFile(atPath: fixed, contents: nil)
        harness.writeRecords(written..<(written + 5))
        written += 5
        try waitUntil("the records after the fix accepted") { receiver.accepted.count >= 5 }
        try waitUntil("the sink recovered") { harness.sink("http")["failing_for_ms"] as? Int == 0 }
        #expect(HTTPClient.get(port: harness.healthPort, "/healthz")?.status == 200)
        #expect(try daemon.stop() == 0)
        #expect(daemon.stderr.components(separatedBy: "sink recovered").count - 1 == 1)
    }

    @Test("while the receiver answers 503 the lag gauge grows and equals the file's size minus the written checkpoint's offset")
    func lagCountsFromTheCheckpoint() throws {
        let harness = HTTPHarness()
        let down = harness.directory.file("receiver-down")
        let receiver = try ScriptedReceiver(
            directory: harness.directory.file("receiver"), script: ["rules": [["while_file": down, "status": 503, "body": "unavailable"]]])
        let sink = #"{"type": "http", "url": "\#(receiver.url)", "batch_timeout_ms": 50, "max_backoff_ms": 200}"#
        harness.writeRecords(0..<500)
        let daemon = try harness.start(sinks: sink)
        func size() -> Int { (try? FileManager.default.attributesOfItem(atPath: harness.scenario.input)[.size] as? Int) ?? -1 }
        func gauge(_ name: String) -> Int? {
            harness.metrics().split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ")[1]) }
        }
        try waitUntil("the first 500 records checkpointed") { harness.checkpointOffset() == size() && gauge("log_sidecar_lag_bytes") == 0 }
        let delivered = harness.checkpointOffset()
        #expect(delivered > 0)

        _ = FileManager.default.createFile(atPath: down, contents: nil)
        var lags: [Int] = []
        for round in 1...3 {
            harness.writeRecords((500 * round)..<(500 * round + 500))
            try waitUntil("the lines read") { (harness.health()["lines_read"] as? Int) == 500 * round + 500 }
            // Several checkpoint intervals (200 ms) pass with nothing acknowledged.
            Thread.sleep(forTimeInterval: 0.6)
            #expect(harness.checkpointOffset() == delivered, "the checkpoint did not move while the receiver is down")
            let lag = try #require(gauge("log_sidecar_lag_bytes"))
            #expect(lag == size() - delivered, "lag \(lag), size \(size()), checkpoint \(delivered)")
            #expect(gauge("log_sidecar_checkpoint_offset_bytes") == delivered)
            let file = (harness.health()["files"] as? [[String: Any]])?.first
            #expect(file?["offset"] as? Int == delivered)
            #expect(file?["lag"] as? Int == size() - delivered)
            lags.append(lag)
        }
        #expect(lags == lags.sorted() && Set(lags).count == 3, "the lag grows: \(lags)")

        try FileManager.default.removeItem(atPath: down)
        try waitUntil("everything acknowledged and checkpointed") { harness.checkpointOffset() == size() && gauge("log_sidecar_lag_bytes") == 0 }
        #expect(gauge("log_sidecar_checkpoint_offset_bytes") == size())
        #expect(try daemon.stop() == 0)
    }
}
