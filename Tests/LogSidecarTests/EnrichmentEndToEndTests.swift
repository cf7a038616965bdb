import Foundation
import Testing

/// Records through the real binary into a file sink, compared field by field with what was written.
@Suite("Enrichment")
struct EnrichmentEndToEndTests {
    static let enrichment = [
        "--enrich-fields", "cluster=prod", "--enrich-env-fields", "pod=POD_NAME,namespace=POD_NAMESPACE,missing=NOT_SET",
    ]

    func ship(_ lines: [String], mode: String, extra: [String] = []) throws -> [Substring] {
        let scenario = Scenario("ship\(mode)")
        let shipped = scenario.directory.file("shipped/out.jsonl")
        scenario.directory.write("logs/app.log", lines.joined(separator: "\n") + "\n")
        let daemon = try DaemonProcess(
            arguments: scenario.arguments(
                [
                    "--enrich-host-field", "host", "--enrich-timestamp-field", "processed_at", "--enrich-mode", mode,
                    "--sinks", "file:\(shipped)",
                ] + Self.enrichment + extra),
            stdoutPath: scenario.output, environment: ["POD_NAME": "pod-7", "POD_NAMESPACE": "shop", "HOSTNAME": "node-1"])
        try waitUntil("the records in the file sink") { Output.lines(shipped).count >= lines.filter { !$0.isEmpty }.count }
        #expect(try daemon.stop() == 0)
        return Output.lines(shipped)
    }

    /// Sorted-key JSON text: equal for equal objects, whatever the order or the bridging.
    static func canonical(_ object: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    static func isTimestamp(_ value: Any?) -> Bool {
        guard let text = value as? String else { return false }
        return text.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil
    }

    @Test("merge: 100,000 varied records keep every field; enrichment never overwrites nor repeats a key")
    func merge() throws {
        var generator = RecordGenerator(seed: 42)
        let lines = (0..<100_000).map { _ in generator.line() }
        let output = try ship(lines, mode: "merge")
        try #require(output.count == lines.count)
        for (line, record) in zip(lines, output) {
            let input = try Output.object(Substring(line))
            var object = try Output.object(record)
            #expect(Self.isTimestamp(object.removeValue(forKey: "processed_at")))
            if input["host"] == nil { #expect(object.removeValue(forKey: "host") as? String == "node-1") }
            #expect(object.removeValue(forKey: "cluster") as? String == "prod")
            #expect(object.removeValue(forKey: "pod") as? String == "pod-7")
            #expect(object.removeValue(forKey: "namespace") as? String == "shop")
            #expect(try Self.canonical(object) == Self.canonical(input), "\(line) -> \(record)")
            // Each key once: the record starts with the application's own bytes.
            #expect(record.hasPrefix(line.dropLast()))
        }
    }

    @Test("wrap: the original object under raw, enrichment beside it")
    func wrap() throws {
        var generator = RecordGenerator(seed: 7)
        let lines = (0..<10_000).map { _ in generator.line() }
        let output = try ship(lines, mode: "wrap")
        try #require(output.count == lines.count)
        for (line, record) in zip(lines, output) {
            let object = try Output.object(record)
            #expect(record.hasPrefix("{\"raw\":" + line + ","))
            #expect(object["host"] as? String == "node-1")
            #expect(Self.isTimestamp(object["processed_at"]))
            #expect(Set(object.keys) == ["raw", "host", "processed_at", "cluster", "pod", "namespace"])
        }
    }

    @Test("lines that are not objects, invalid UTF-8, empty lines and CRLF: shipped or skipped as the contract says")
    func badLines() throws {
        let lines = [
            "not json", "[1,2]", "\"str\"", "{\"a\":1", "{\"ok\":true}\r", "", "{\"bad\":\"\u{FFFD}\"}", "{\"ho\\u0073t\":\"mine\"}",
            "{ \"spaced\" : 1 }  ", "{}",
        ]
        var text = lines.joined(separator: "\n") + "\n"
        text = text.replacingOccurrences(of: "\u{FFFD}", with: "INVALID")
        var bytes = Array(text.utf8)
        let marker = Array("INVALID".utf8)
        if let at = (0...(bytes.count - marker.count)).first(where: { Array(bytes[$0..<($0 + marker.count)]) == marker }) {
            bytes.replaceSubrange(at..<(at + marker.count), with: [0xC3, 0x28, 0xFF])
        }
        let scenario = Scenario()
        _ = FileManager.default.createFile(atPath: scenario.input, contents: Data(bytes))
        let daemon = try scenario.start()
        try scenario.waitForShipped(9)
        #expect(try daemon.stop() == 0)
        let output = Output.lines(scenario.output).map(String.init)
        #expect(
            output == [
                #"{"message":"not json","parse_error":true}"#,
                #"{"message":"[1,2]","parse_error":true}"#,
                #"{"message":"\"str\"","parse_error":true}"#,
                #"{"message":"{\"a\":1","parse_error":true}"#,
                #"{"ok":true}"#,
                "{\"bad\":\"\u{FFFD}(\u{FFFD}\"}",
                #"{"ho\u0073t":"mine"}"#,
                #"{ "spaced" : 1 }"#,
                #"{}"#,
            ])
        for line in output { _ = try Output.object(Substring(line)) }
    }

    @Test("an application key written with escapes still wins over the enrichment field")
    func escapedKeyWins() throws {
        let output = try ship([#"{"ho\u0073t":"mine","msg":"x"}"#, "{}"], mode: "merge")
        #expect(!output[0].contains("node-1"))
        #expect(try Output.object(output[1])["host"] as? String == "node-1")
        #expect(output[1].hasPrefix("{\"host\":\"node-1\","))
    }

    @Test("input.format text: each line is the message, in both modes, never a parse error", arguments: ["merge", "wrap"])
    func textFormat(mode: String) throws {
        let lines = [
            "plain words", #"{"looks":"like json"}"#, #"quote " and back\slash"#, "tab\there", "ünïcödé ✓ 😀", "trailing cr\r", "",
            "{\"message\":\"an application key\"}",
        ]
        let output = try ship(lines, mode: mode, extra: ["--input-format", "text"])
        let expected = lines.filter { !$0.isEmpty }.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        #expect(output.count == expected.count)
        for (line, text) in zip(output, expected) {
            let record = try Output.object(line)
            #expect(record["message"] as? String == text, "\(line)")
            #expect(record["parse_error"] == nil && record["raw"] == nil)
            #expect(record["host"] as? String == "node-1" && record["cluster"] as? String == "prod" && record["pod"] as? String == "pod-7")
            #expect(Self.isTimestamp(record["processed_at"]))
        }
    }
}
