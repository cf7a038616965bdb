import Foundation
import Testing

@testable import Configuration
@testable import Filters
@testable import Records

@Suite("Configuration")
struct ConfigTests {
    @Test("the example configuration loads and every key has a default")
    func exampleLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try ConfigLoader.load(file: root.appendingPathComponent("config.example.json").path, environment: [:], flags: [])
        #expect(config.sinks.map(\.type) == ["stdout", "file", "journald"])
        #expect(config.enrich.fields == [.init(key: "cluster", value: .string("prod"))])
        #expect(config.input.journald?.units == ["app.service"] && config.input.journald?.priority == 6)
        #expect(config.filters.map(\.name) == ["drop#0", "health-checks", "remove#2", "rename#3", "redact#4"])
        #expect(try ConfigLoader.load(file: nil, environment: [:], flags: []) == Config())
    }

    @Test("file < environment < flags")
    func precedence() throws {
        let directory = TestDirectory()
        directory.write("c.json", #"{"input":{"path":"/from/file","max_line_bytes":2048},"health":{"port":1}}"#)
        let config = try ConfigLoader.load(
            file: directory.file("c.json"),
            environment: ["LOG_SIDECAR_INPUT_PATH": "/from/env", "LOG_SIDECAR_HEALTH_PORT": "2", "LOG_SIDECAR_SINKS": "stdout,file:/tmp/x"],
            flags: ["--health-port", "3", "--enrich-fields=a=1,b=2"])
        #expect(config.input.paths == ["/from/env"])
        #expect(config.input.maxLineBytes == 2048)
        #expect(config.health.port == 3)
        #expect(config.sinks.map(\.type) == ["stdout", "file"])
        #expect((config.sinks[1].settings as? FileSinkConfig)?.path == "/tmp/x")
        #expect(config.enrich.fields.map(\.key) == ["a", "b"])
    }

    @Test(
        "each bad configuration names the key at fault",
        arguments: [
            (#"{"input":{"pathh":"/x"}}"#, "input.pathh"),
            (#"{"inputs":{}}"#, "inputs"),
            (#"{"input":{"max_line_bytes":"big"}}"#, "input.max_line_bytes"),
            (#"{"input":{"max_line_bytes":-5}}"#, "input.max_line_bytes"),
            (#"{"health":{"port":70000}}"#, "health.port"),
            (#"{"input":{"read_from":"middle"}}"#, "input.read_from"),
            (#"{"sinks":[{"type":"file"}]}"#, "sinks[0].path"),
            (#"{"sinks":[{"type":"kafka"}]}"#, "sinks[0].type"),
            (#"{"sinks":[{"type":"stdout","path":"/x"}]}"#, "sinks[0].path"),
            (#"{"enrich":{"env_fields":{"pod":3}}}"#, "enrich.env_fields.pod"),
            (#"{"input":{"path":"/a","paths":["/b/*.log"]}}"#, "input.paths"),
            (#"{"input":{"paths":[]}}"#, "input.paths"),
            (#"{"input":{"paths":"/a/*.log"}}"#, "input.paths"),
            (#"{"input":{"paths":["/a",""]}}"#, "input.paths[1]"),
            (#"{"input":{"exclude":[3]}}"#, "input.exclude[0]"),
            (#"{"input":{"max_open_files":0}}"#, "input.max_open_files"),
            (#"{"enrich":{"file_key":true}}"#, "enrich.file_key"),
            ("{\"enrich\":{\"fields\":{" + (0..<62).map { "\"k\($0)\":1" }.joined(separator: ",") + "}}}", "enrich.fields"),
            (
                "{\"enrich\":{\"fields\":{" + (0..<40).map { "\"k\($0)\":1" }.joined(separator: ",") + "},\"env_fields\":{"
                    + (0..<30).map { "\"e\($0)\":\"V\($0)\"" }.joined(separator: ",") + "}}}", "enrich.fields"
            ),
        ])
    func badConfiguration(json: String, key: String) throws {
        let directory = TestDirectory()
        directory.write("c.json", json)
        #expect {
            try ConfigLoader.load(file: directory.file("c.json"), environment: [:], flags: [])
        } throws: { error in
            (error as? ConfigError)?.key == key
        }
    }

    @Test("59 static and environment fields are the most the enricher takes beside host, timestamp, file and stream, and load; 60 do not")
    func fieldBound() throws {
        func flags(_ count: Int) -> [String] {
            [
                "--enrich-fields", (0..<(count - 20)).map { "k\($0)=v" }.joined(separator: ","),
                "--enrich-env-fields", (0..<20).map { "e\($0)=V\($0)" }.joined(separator: ","),
            ]
        }
        let config = try ConfigLoader.load(file: nil, environment: [:], flags: flags(59))
        #expect(config.enrich.fields.count + config.enrich.envFields.count == 59)
        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: nil, environment: [:], flags: flags(60)) }
    }

    @Test("invalid JSON is reported with its line and column")
    func invalidJSON() {
        #expect(throws: JSONParseError(reason: "expected ',' or '}' in object", line: 3, column: 3)) {
            try JSONParser.parse("{\n  \"a\": 1\n  \"b\": 2\n}")
        }
    }

    @Test(
        "the real binary exits 2 naming the key, for files, environment and flags",
        arguments: [
            (["--input-max-line-bytes", "abc"], [String: String](), "--input-max-line-bytes"),
            (["--no-such-option", "1"], [:], "--no-such-option"),
            ([], ["LOG_SIDECAR_HEALTH_PORT": "-1"], "LOG_SIDECAR_HEALTH_PORT"),
            (["--config", "/nonexistent/config.json"], [:], "/nonexistent/config.json"),
            ([], ["LOG_SIDECAR_ENRICH_FIELDS": (0..<64).map { "k\($0)=v" }.joined(separator: ",")], "enrich.fields"),
        ])
    func binaryExitsTwo(arguments: [String], environment: [String: String], key: String) throws {
        let result = try DaemonProcess.run(arguments + ["--check-config"], environment: environment)
        #expect(result.status == 2)
        #expect(result.stderr.contains(key), "stderr: \(result.stderr)")
    }

    @Test("the binary reports invalid JSON with line and column, and exits 2")
    func binaryInvalidJSON() throws {
        let directory = TestDirectory()
        directory.write("c.json", "{\n  \"input\": {\"path\": \"/x\",}\n}\n")
        let result = try DaemonProcess.run(["--config", directory.file("c.json"), "--check-config"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 2, column"), "stderr: \(result.stderr)")
    }

    @Test("--check-config prints the effective configuration as JSON and exits 0")
    func checkConfig() throws {
        let result = try DaemonProcess.run(["--input-path", "/var/log/x.log", "--check-config"])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect((object?["input"] as? [String: Any])?["path"] as? String == "/var/log/x.log")
    }

    @Test("input.paths: a list in the file, a comma list from the environment and flags; file_key follows it")
    func manyPaths() throws {
        let directory = TestDirectory()
        directory.write("c.json", #"{"input":{"paths":["/a/*.log","/b/x.log"],"exclude":["*.gz"]}}"#)
        let fromFile = try ConfigLoader.load(file: directory.file("c.json"), environment: [:], flags: [])
        #expect(fromFile.input.paths == ["/a/*.log", "/b/x.log"] && fromFile.input.exclude == ["*.gz"])
        #expect(fromFile.effectiveFileKey == "file")
        let fromEnvironment = try ConfigLoader.load(
            file: nil, environment: ["LOG_SIDECAR_INPUT_PATHS": "/a/*.log,/c/*.jsonl", "LOG_SIDECAR_ENRICH_FILE_KEY": "source"],
            flags: ["--input-exclude", "*.1,*.2"])
        #expect(fromEnvironment.input.paths == ["/a/*.log", "/c/*.jsonl"] && fromEnvironment.input.exclude == ["*.1", "*.2"])
        #expect(fromEnvironment.effectiveFileKey == "source")
        let single = try ConfigLoader.load(file: nil, environment: [:], flags: ["--input-path", "/var/log/app.log"])
        #expect(single.effectiveFileKey == "", "one literal path: no file field, as before")
        let rendered = ConfigLoader.render(fromFile)
        #expect(rendered["input"]?["path"] == nil && rendered["input"]?["paths"] != nil)
        #expect(ConfigLoader.render(single)["input"]?["paths"] == nil)
    }

    @Test("batch_max_bytes: 4 MiB for clickhouse, 1 MiB for the other formats, and a value given wins wherever it stands")
    func batchDefaults() throws {
        let directory = TestDirectory()
        func batch(_ sink: String) throws -> Int? {
            directory.write("c.json", #"{"sinks":[\#(sink)]}"#)
            let config = try ConfigLoader.load(file: directory.file("c.json"), environment: [:], flags: [])
            return (config.sinks.first?.settings as? HTTPSinkConfig)?.batchMaxBytes
        }
        let clickhouse = #""type":"http","url":"http://ch:8123","format":"clickhouse","table":"logs""#
        #expect(try batch("{\(clickhouse)}") == 4_194_304)
        #expect(try batch(#"{"type":"http","url":"http://x:1"}"#) == 1_048_576)
        #expect(try batch(#"{"type":"http","url":"http://x:1","format":"loki"}"#) == 1_048_576)
        #expect(try batch(#"{"batch_max_bytes":65536,\#(clickhouse)}"#) == 65536)
        #expect(try batch(#"{\#(clickhouse),"batch_max_bytes":2097152}"#) == 2_097_152)
        // --check-config prints what was used, and that loads again to the same.
        directory.write("c.json", #"{"sinks":[{\#(clickhouse)}]}"#)
        let loaded = try ConfigLoader.load(file: directory.file("c.json"), environment: [:], flags: [])
        guard case .array(let sinks) = ConfigLoader.render(loaded)["sinks"] else {
            Issue.record("no sinks rendered")
            return
        }
        #expect(sinks.first?["batch_max_bytes"] == .number("4194304"))
    }

    @Test("--help lists every key as a flag and an environment variable")
    func help() throws {
        let result = try DaemonProcess.run(["--help"])
        #expect(result.status == 0)
        for setting in ConfigSchema.settings {
            // A key set in the config file only is not offered as a flag or a variable it would refuse.
            #expect(
                result.stdout.contains(setting.flag) == !setting.fileOnly && result.stdout.contains(setting.environmentVariable) == !setting.fileOnly,
                "\(setting.path)")
        }
        #expect(result.stdout.contains("filters (config file only)"))
        let overview = result.stdout.components(separatedBy: "USAGE:")[0]
        for sink in ["stdout", "files", "journald", "HTTP", "ClickHouse", "OTLP", "Loki", "Elasticsearch"] {
            #expect(overview.contains(sink), "the overview names \(sink)")
        }
    }

    @Test("docs/configuration-keys.md is what --config-reference prints: every key, the sinks' and the filters' too")
    func referenceMatchesTheCode() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let committed = try String(contentsOf: root.appendingPathComponent("docs/configuration-keys.md"), encoding: .utf8)
        #expect(committed == ConfigReference.markdown(), "run: log-sidecar --config-reference > docs/configuration-keys.md")
        for setting in ConfigSchema.settings { #expect(committed.contains("### `\(setting.path)`")) }
        for kind in SinkKinds.all { for key in kind.keys { #expect(committed.contains("| `\(key)` |"), "\(kind.type).\(key)") } }
        let printed = try DaemonProcess.run(["--config-reference"])
        #expect(printed.status == 0 && printed.stdout == committed)
    }

    @Test("an unknown key names the keys it could have been")
    func unknownKeysListTheKnown() throws {
        let directory = TestDirectory()
        directory.write("top.json", #"{"inptu":{"path":"/a"}}"#)
        directory.write("member.json", #"{"input":{"pathz":["/a"]}}"#)
        func failure(_ name: String) -> String {
            do {
                _ = try ConfigLoader.load(file: directory.file(name), environment: [:], flags: [])
                return "loaded"
            } catch { return "\(error)" }
        }
        #expect(failure("top.json").contains("inptu: unknown key; known: input, enrich, sinks"), "\(failure("top.json"))")
        #expect(failure("member.json").contains("input.pathz: unknown key; known in input: path, paths, exclude"), "\(failure("member.json"))")
    }
}
