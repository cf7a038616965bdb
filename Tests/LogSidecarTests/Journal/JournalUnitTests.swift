import Configuration
import Foundation
import Testing

@testable import Journal

/// The journald input's parts without a journal: the record built from an entry's fields, the frames
/// between the reader and the daemon, the match program, the reader's arguments, the configuration.
@Suite("journald input: units")
struct JournalUnitTests {
    func record(_ fields: [String], realtime: UInt64 = 1_764_748_800_123_456, fields keep: [String]? = nil, max: Int = 1 << 20) throws -> [String:
        Any]
    {
        var builder = JournalRecord(fields: keep, maxValueBytes: max)
        builder.reset()
        for field in fields { Array(field.utf8).withUnsafeBytes { builder.add($0) } }
        var out: [UInt8] = []
        builder.finish(realtimeUsec: realtime, into: &out)
        return try #require(JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
    }

    @Test("message, level by name, time in RFC 3339 with microseconds, other fields as strings")
    func recordFields() throws {
        let object = try record(["MESSAGE=hello \"there\"", "PRIORITY=3", "_PID=42", "SYSLOG_IDENTIFIER=app"])
        #expect(object["message"] as? String == "hello \"there\"")
        #expect(object["level"] as? String == "error")
        #expect(object["time"] as? String == "2025-12-03T08:00:00.123456Z")
        #expect(object["_PID"] as? String == "42")
        #expect(object["SYSLOG_IDENTIFIER"] as? String == "app")
        #expect(object["MESSAGE"] == nil && object["PRIORITY"] == nil)
        let levels = try (0...7).map { try record(["PRIORITY=\($0)"])["level"] as? String }
        #expect(levels == ["emerg", "alert", "critical", "error", "warning", "notice", "info", "debug"])
    }

    @Test("the sender's own time wins over journald's")
    func sourceTime() throws {
        let object = try record(["MESSAGE=m", "_SOURCE_REALTIME_TIMESTAMP=1000000000000007"])
        #expect(object["time"] as? String == "2001-09-09T01:46:40.000007Z")
    }

    @Test("a name given twice becomes an array; fields keeps only the names it lists")
    func repeatedAndKept() throws {
        let object = try record(["MESSAGE=m", "TAG=a", "TAG=b", "OTHER=x"])
        #expect(object["TAG"] as? [String] == ["a", "b"])
        let kept = try record(["MESSAGE=m", "TAG=a", "OTHER=x"], fields: ["OTHER"])
        #expect(kept["TAG"] == nil && kept["OTHER"] as? String == "x" && kept["message"] as? String == "m")
    }

    @Test("a value beyond max_line_bytes is cut at a character boundary and flagged; invalid UTF-8 repaired")
    func cutAndRepaired() throws {
        let object = try record(["MESSAGE=" + String(repeating: "é", count: 20)], max: 15)
        #expect(object["message"] as? String == String(repeating: "é", count: 7))
        #expect(object["truncated"] as? Bool == true)
        var builder = JournalRecord(fields: nil, maxValueBytes: 100)
        builder.reset()
        [UInt8]("BIN=a".utf8 + [0xFF, 0x00, 0x62]).withUnsafeBytes { builder.add($0) }
        var out: [UInt8] = []
        builder.finish(realtimeUsec: 0, into: &out)
        let repaired = try #require(JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        #expect(repaired["BIN"] as? String == "a\u{FFFD}\u{0}b")
    }

    @Test("frames decode to what was encoded, a cut frame waits, a broken one throws")
    func frames() throws {
        var bytes: [UInt8] = []
        JournalFrame.entry(cursor: "s=1;i=2", realtimeUsec: 77, record: Array("{}".utf8)).encode(into: &bytes)
        JournalFrame.position(cursor: "s=1;i=3", realtimeUsec: 78).encode(into: &bytes)
        JournalFrame.cursorLost("gone").encode(into: &bytes)
        JournalFrame.problem("cannot open", fatal: true).encode(into: &bytes)
        var decoded: [String] = []
        var offset = 0
        try bytes.withUnsafeBytes { raw in
            while let (frame, length) = try JournalFrame.decode(UnsafeRawBufferPointer(rebasing: raw[offset...])) {
                switch frame {
                case .entry(let cursor, let realtime, let record):
                    decoded.append("entry \(String(decoding: cursor, as: UTF8.self)) \(realtime) \(String(decoding: record, as: UTF8.self))")
                case .position(let cursor, let realtime): decoded.append("position \(cursor) \(realtime)")
                case .cursorLost(let text): decoded.append("lost \(text)")
                case .problem(let text, let fatal): decoded.append("problem \(text) \(fatal)")
                default: decoded.append("other")
                }
                offset += length
            }
        }
        #expect(decoded == ["entry s=1;i=2 77 {}", "position s=1;i=3 78", "lost gone", "problem cannot open true"])
        #expect(offset == bytes.count)
        func decode(_ bytes: [UInt8]) throws -> Int? {
            try bytes.withUnsafeBytes { raw in try JournalFrame.decode(raw)?.1 }
        }
        #expect(try decode(Array(bytes.prefix(7))) == nil)
        #expect(throws: JournalFrameError.self) { try decode([0x00, 0, 0, 0, 0]) }
        #expect(throws: JournalFrameError.self) { try decode([0x45, 1, 0, 0, 0, 0]) }
    }

    @Test("units, priority and matches build journalctl's match program; the arguments round-trip")
    func query() throws {
        var settings = JournaldSettings()
        settings.units = ["nginx.service"]
        settings.priority = 2
        settings.matches = ["_TRANSPORT=journal"]
        let terms = JournalQuery.terms(settings)
        #expect(
            terms == [
                .match("_SYSTEMD_UNIT=nginx.service"), .or,
                .match("MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1"), .match("_UID=0"), .match("COREDUMP_UNIT=nginx.service"), .or,
                .match("_PID=1"), .match("UNIT=nginx.service"), .or,
                .match("_UID=0"), .match("OBJECT_SYSTEMD_UNIT=nginx.service"), .or, .and,
                .match("PRIORITY=0"), .match("PRIORITY=1"), .match("PRIORITY=2"), .and,
                .match("_TRANSPORT=journal"),
            ])
        settings.directory = "/var/log/journal"
        settings.fields = ["A", "B"]
        let arguments = JournalReaderArguments(settings: settings, cursor: "s=x;i=1", readFromEnd: true, maxValueBytes: 4096)
        #expect(JournalReaderArguments(decoding: arguments.encoded) == arguments)
        #expect(JournalReaderArguments(decoding: ["bogus"]) == nil)
    }

    @Test("a cursor's sequence number, sequence and time")
    func cursorFields() throws {
        let fields = try #require(
            CursorFields("s=739ad463348b4ceca5a9e69c95a3c93f;i=4ece7;b=6c7c6013a8ee4bec9b3f3e4c0a4f3d1e;m=4f1a2;t=5a1b2c3d4e5f6;x=f9a8"))
        #expect(fields.seqnum == 0x4ece7 && fields.realtime == 0x5_a1b2_c3d4_e5f6 && fields.seqnumID == "739ad463348b4ceca5a9e69c95a3c93f")
        #expect(CursorFields("garbage") == nil)
    }

    func load(_ text: String) throws -> Config {
        let path = NSTemporaryDirectory() + "journald-config-\(UUID().uuidString).json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ConfigLoader.load(file: path, environment: [:], flags: [])
    }

    @Test("bad input.journald values stop start-up naming the key")
    func configErrors() throws {
        func error(_ journald: String) -> String {
            do {
                _ = try load("{\"input\": {\"journald\": \(journald)}}")
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(error(#"{"priority": "loud"}"#).contains("input.journald.priority"))
        #expect(error(#"{"matches": ["NOEQUALS"]}"#).contains("input.journald.matches[0]"))
        #expect(error(#"{"matches": ["lower=x"]}"#).contains("input.journald.matches[0]"))
        #expect(error(#"{"directory": "/etc/hostname"}"#).contains("input.journald.directory: /etc/hostname is not a directory"))
        #expect(error(#"{"directory": "/nonexistent-journal"}"#).contains("input.journald.directory"))
        #expect(error(#"{"unit": ["a"]}"#).contains("input.journald.unit"))
        #expect(error(#"{"fields": "some"}"#).contains("input.journald.fields"))
        #expect(error(#"{"directory": "/tmp", "namespace": "n"}"#).contains("input.journald.namespace"))
        #expect(error(#"{"units": ["nginx"], "priority": 3, "matches": ["_TRANSPORT=stdout"]}"#).isEmpty)
        let config = try load(#"{"input": {"journald": {"units": ["nginx"], "priority": "err"}}}"#)
        #expect(config.input.journald?.units == ["nginx.service"])
        #expect(config.input.journald?.priority == 3)
        #expect(config.input.paths.isEmpty, "the journal alone follows no file")
        #expect(config.input.checkpointPath == Config().input.checkpointPath)
    }
}
