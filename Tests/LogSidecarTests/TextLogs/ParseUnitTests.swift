import Foundation
import Testing

@testable import Configuration
@testable import Processing
@testable import Records

/// `parse` and `time_format` in memory: the logfmt reader, named groups, the record the enricher
/// builds from them, the time formats, and the configuration's errors.
@Suite("Parsing text and event times, in memory")
struct ParseUnitTests {
    /// The parser's object for `text` as a dictionary; nil when it did not parse.
    static func parsed(_ rule: ParseRule, _ text: String) throws -> [String: Any]? {
        let parser = try LineParser(rule)
        var out: [UInt8] = []
        guard Array(text.utf8).withUnsafeBytes({ parser.appendObject($0, to: &out) }) else { return nil }
        return try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any]
    }

    @Test("logfmt: bare, quoted with escapes, empty and flag values; the last of a repeated key wins")
    func logfmt() throws {
        let fields = try #require(try Self.parsed(.logfmt, #"level=info msg="user \"ann\" signed in\ttab é" took=12ms empty= cached a=1 a=2"#))
        #expect(fields["level"] as? String == "info")
        #expect(fields["msg"] as? String == "user \"ann\" signed in\ttab é")
        #expect(fields["took"] as? String == "12ms")
        #expect(fields["empty"] as? String == "")
        #expect(fields["cached"] as? Bool == true)
        #expect(fields["a"] as? String == "2")
        #expect(fields.count == 6)
        #expect(try Self.parsed(.logfmt, #"time=2026-12-02T10:00:00Z msg="\u00e9\n""#)?["msg"] as? String == "é\n")
    }

    @Test("logfmt: what is not logfmt does not parse", arguments: ["", "   ", #"msg="open"#, #"=value"#, #"a"b=1"#, #"a=b"c"#, #"a="x"y"#, "a=b=c"])
    func notLogfmt(text: String) throws {
        #expect(try Self.parsed(.logfmt, text) == nil)
    }

    @Test("regex: each named group that took part is a string field, in the pattern's order; no match is nil")
    func regex() throws {
        let rule = ParseRule.regex(#"^(?<time>\S+ \S+) (?<level>[A-Z]+) +(?:\[(?<thread>[^\]]+)\] )?(?<message>(?s).*)$"#)
        let fields = try #require(try Self.parsed(rule, "2026-12-02 10:00:00,123 ERROR boom \"q\"\n\tat x"))
        #expect(fields["time"] as? String == "2026-12-02 10:00:00,123")
        #expect(fields["level"] as? String == "ERROR")
        #expect(fields["message"] as? String == "boom \"q\"\n\tat x")
        #expect(fields["thread"] == nil)
        #expect(try Self.parsed(rule, "2026-12-02 10:00:00,123 INFO [main] ok")?["thread"] as? String == "main")
        #expect(try Self.parsed(rule, "no time here") == nil)
        var out: [UInt8] = []
        let parser = try LineParser(rule)
        _ = Array("a b INFO x".utf8).withUnsafeBytes { parser.appendObject($0, to: &out) }
        #expect(String(decoding: out, as: UTF8.self) == #"{"time":"a b","level":"INFO","message":"x"}"#)
    }

    /// The record the enricher makes of `line` from a source in `format` with `rule`.
    static func record(_ line: String, format: InputFormat, rule: ParseRule, mode: EnrichMode = .merge) throws -> (String, Enricher.Outcome) {
        let enricher = Enricher(mode: mode, format: format, fields: [EnrichmentField(key: "host", value: Array(#""h""#.utf8))])
        enricher.begin(.file(origin: "/x"), format: format, parser: try LineParser(rule))
        var batch = RecordBatch()
        let outcome = Array(line.utf8).withUnsafeBytes { enricher.encode(.complete($0), partial: false, into: &batch) }
        return (String(decoding: batch.bytes, as: UTF8.self), outcome)
    }

    @Test("the enricher: parsed text is the record in both modes; a JSON message is replaced by its fields; what does not parse is flagged")
    func enricher() throws {
        let logfmt = ParseRule.logfmt
        #expect(try Self.record("a=1 b", format: .text, rule: logfmt) == (#"{"a":"1","b":true,"host":"h"}"# + "\n", .record))
        #expect(try Self.record("a=1 b", format: .text, rule: logfmt, mode: .wrap) == (#"{"a":"1","b":true,"host":"h"}"# + "\n", .record))
        #expect(try Self.record(#"a="x"#, format: .text, rule: logfmt) == (#"{"message":"a=\"x","parse_error":true,"host":"h"}"# + "\n", .parseError))
        // A JSON line: its message parsed, its own members kept, those the fields name give way.
        #expect(
            try Self.record(#"{"n":1,"message":"a=2 n=3","a":0}"#, format: .json, rule: logfmt)
                == (#"{"a":"2","n":"3","host":"h"}"# + "\n", .record))
        #expect(
            try Self.record(#"{"n":1,"message":"a=2"}"#, format: .json, rule: logfmt, mode: .wrap)
                == (#"{"raw":{"n":1,"a":"2"},"host":"h"}"# + "\n", .record))
        #expect(
            try Self.record(#"{"message":"=","x":[1]}"#, format: .json, rule: logfmt)
                == (#"{"message":"=","x":[1],"parse_error":true,"host":"h"}"# + "\n", .parseError))
        // No message to parse, or not an object: as without a parser.
        #expect(try Self.record(#"{"x":1}"#, format: .json, rule: logfmt) == (#"{"x":1,"host":"h"}"# + "\n", .record))
        #expect(try Self.record("[1]", format: .json, rule: logfmt) == (#"{"message":"[1]","parse_error":true,"host":"h"}"# + "\n", .parseError))
        // A field named like an enrichment field keeps the parsed value.
        #expect(try Self.record("host=app", format: .text, rule: logfmt) == (#"{"host":"app"}"# + "\n", .record))
    }

    static func nanoseconds(_ format: String, _ value: String, isString: Bool = true) throws -> UInt64? {
        Array(value.utf8).withUnsafeBytes { bytes in (try? TimeFormat(format))?.nanoseconds(bytes, isString: isString) }
    }

    @Test("time formats: rfc3339, the unix family as numbers and numeric strings, strftime patterns with %L and %z")
    func timeFormats() throws {
        let second: UInt64 = 1_795_860_000  // 2026-11-28T10:00:00Z
        let nano: UInt64 = 1_000_000_000
        #expect(try Self.nanoseconds("rfc3339", "2026-11-28T10:00:00.5Z") == second * nano + 500_000_000)
        #expect(try Self.nanoseconds("unix", "1795860000", isString: false) == second * nano)
        #expect(try Self.nanoseconds("unix", "1795860000.25") == second * nano + 250_000_000)
        #expect(try Self.nanoseconds("unix_ms", "1795860000123", isString: false) == second * nano + 123_000_000)
        #expect(try Self.nanoseconds("unix_us", "1795860000123456") == second * nano + 123_456_000)
        #expect(try Self.nanoseconds("unix_ns", "1795860000123456789") == second * nano + 123_456_789)
        #expect(try Self.nanoseconds("%Y-%m-%d %H:%M:%S,%L", "2026-11-28 10:00:00,123") == second * nano + 123_000_000)
        #expect(try Self.nanoseconds("%d/%b/%Y:%H:%M:%S %z", "28/Nov/2026:12:00:00 +0200") == second * nano)
        #expect(try Self.nanoseconds("%d/%b/%Y:%H:%M:%S %z", "28/nov/2026:05:00:00 -05:00") == second * nano)
        #expect(try Self.nanoseconds("%a %b %e %T %Y", "Sat Nov 28 10:00:00 2026") == second * nano)
        #expect(try Self.nanoseconds("%FT%T.%f%z", "2026-11-28T10:00:00.000001Z") == second * nano + 1000)
        #expect(try Self.nanoseconds("%s", "1795860000") == second * nano)
        for (format, value) in [
            ("rfc3339", "yesterday"), ("unix", "17e8"), ("unix", "-1"), ("unix_ms", ""), ("unix_ns", "99999999999999999999"),
            ("%Y-%m-%d %H:%M:%S,%L", "2026-11-28 10:00:00"), ("%Y-%m-%d", "2026-02-30"), ("%Y-%m-%d", "2026-11-28 extra"),
            ("%d/%b/%Y", "28/Foo/2026"),
        ] {
            #expect(try Self.nanoseconds(format, value) == nil, "\(format) \(value)")
        }
        #expect(try Self.nanoseconds("rfc3339", "1795860000", isString: false) == nil)
        // Past 2554 nanoseconds do not fit 64 bits: no time, not a crash (the overflow trapped before).
        #expect(try Self.nanoseconds("rfc3339", "9999-12-31T23:59:59Z") == nil)
        #expect(try Self.nanoseconds("%Y", "9999") == nil && (try Self.nanoseconds("%s", "99999999999")) == nil)
    }

    @Test(
        "a bad parse or time_format names its key",
        arguments: [
            (#"{"input":{"paths":[{"path":"/a","parse":{"type":"grok"}}]}}"#, "input.paths[0].parse.type", "expected regex or logfmt"),
            (#"{"input":{"paths":[{"path":"/a","parse":{"type":"regex","pattern":"(?<a>x"}}]}}"#, "input.paths[0].parse.pattern", "at byte 6"),
            (#"{"input":{"paths":[{"path":"/a","parse":{"type":"regex","pattern":"(x)"}}]}}"#, "input.paths[0].parse.pattern", "no named group"),
            (#"{"input":{"paths":[{"path":"/a","parse":{"type":"logfmt","pattern":"x"}}]}}"#, "input.paths[0].parse.pattern", "unknown key"),
            (#"{"input":{"paths":[{"path":"/a","parse":"logfmt"}]}}"#, "input.paths[0].parse", "expected an object"),
            (#"{"exec":{"command":["/bin/true"],"stderr":{"parse":{"type":"regex"}}}}"#, "exec.stderr.parse.pattern", "expected"),
            (#"{"sinks":[{"type":"http","url":"http://x","format":"loki","time_format":"%Q"}]}"#, "sinks[0].time_format", "%Q is not supported"),
            (#"{"sinks":[{"type":"http","url":"http://x","format":"otlp","time_format":"epoch"}]}"#, "sinks[0].time_format", "expected rfc3339"),
            (#"{"sinks":[{"type":"http","url":"http://x","time_format":"unix"}]}"#, "sinks[0].time_format", "only the otlp"),
        ])
    func badConfiguration(json: String, key: String, message: String) throws {
        let directory = TestDirectory()
        directory.write("c.json", json)
        #expect {
            try ConfigLoader.load(file: directory.file("c.json"), environment: [:], flags: [])
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.key == key && "\(error)".contains(message)
        }
    }

    @Test("parse and time_format print in --check-config and load again")
    func renderedAgain() throws {
        let directory = TestDirectory()
        let json = #"""
            {"input":{"paths":[{"path":"/a","format":"text","parse":{"type":"regex","pattern":"^(?<level>\\w+) (?<message>.*)"}},
              {"path":"/b","parse":{"type":"logfmt"}}]},
             "exec":{"command":["/bin/true"],"stderr":{"format":"text","parse":{"type":"logfmt"}}},
             "sinks":[{"type":"http","url":"http://x","format":"loki","time_key":"time","time_format":"%Y-%m-%d %H:%M:%S,%L"}]}
            """#
        directory.write("c.json", json)
        let config = try ConfigLoader.load(file: directory.file("c.json"), environment: [:], flags: [])
        #expect(config.input.pathSettings["/a"]?.parse == .regex(#"^(?<level>\w+) (?<message>.*)"#))
        #expect(config.input.pathSettings["/b"]?.parse == .logfmt)
        #expect(config.exec.streams[.stderr]?.parse == .logfmt)
        directory.write("again.json", ConfigLoader.render(config).serialized)
        let again = try ConfigLoader.load(file: directory.file("again.json"), environment: [:], flags: [])
        #expect(ConfigLoader.render(again).serialized == ConfigLoader.render(config).serialized)
        #expect(again.input.pathSettings == config.input.pathSettings)
        #expect(again.exec.streams == config.exec.streams)
    }
}
