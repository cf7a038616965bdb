import Foundation
import Testing

@testable import Configuration
@testable import HTTPSinks
@testable import Processing
@testable import Records

/// OTLP's JSON writer writes a record whose layout it has seen from a template (`OTLPTemplates`); a
/// record alone is written without one. Every record of a batch must read byte for byte as it does
/// alone, whatever its neighbours' layouts and its values' kinds.
@Suite("OTLP templates")
struct OTLPTemplateTests {
    /// Values of every kind, and of kinds a template of another record's value does not expect.
    static let values = [
        "1", "-3", "0", #""x""#, #""a\"b""#, #""""#, "1.5", "-0.25", "1e5", "1E400", "12345678901234567890", "-9223372036854775808",
        "9223372036854775808", "9223372036854775807", "true", "false", "null", #"{"b":1,"c":"d"}"#, #"[1,"x",{}]"#, "{}", "[]",
        #""2026-11-24T10:00:00.250Z""#, #""info""#, #""WARN""#, "30",
    ]

    /// Layouts: the keys of a record in order, some with roles (message, level, time, ids), some
    /// written with spaces or an escape, more than the templates kept (four), one with more members
    /// than a template holds and one with a key longer than its room.
    /// The first nine are common (three at a time in turn), the first six in pairs of the same
    /// lengths: a template's pieces are told apart by their bytes, not their lengths alone.
    static let layouts: [[String]] = [
        ["msg", "level", "ts", "a", "b"], ["ts", "a"], ["seq", "a"], ["seq", "lever", "tz", "a", "b"], ["ms", "a"], ["msg", "a"],
        ["a"], ["message", "a", "b", "c"], ["msg", "a", "a"], ["level", "msg"],
        ["k\\u0041", "a"], ["msg", "trace_id", "span_id", "a"], ["a", "b", "c", "d", "e", "f"], ["time", "@timestamp", "a"],
        (0..<70).map { "k\($0)" }, [String(repeating: "long", count: 150), "a"],
        ["a_key_longer_than_sixteen_bytes", "msg", "a"],
    ]

    /// Objects for a member that mostly holds one of the first three (`{"id":…,"name":…}`), their
    /// members' kinds and bytes changed now and then.
    static let objects = [
        #"{"id":5,"name":"u-5"}"#, #"{"id":-12,"name":"u\"q"}"#, #"{"id":7,"name":""}"#, #"{"id":"x","name":"u"}"#,
        #"{"id":1.5,"name":"u"}"#, #"{ "id" : 1 , "name" : "v" }"#, #"{"id":{"x":1},"name":"u"}"#, #"{"id":1}"#, #"{"name":"u","id":1}"#,
        #"{"id":1e400,"name":"u"}"#, #"{"id":1,"name":"u","more":true}"#, #"{"id":1,"name":[1]}"#, #"{"ib":1,"name":"u"}"#, "{}",
        #"{"id":12345678901234567890,"name":"u"}"#, #"{"id":2,"name":"u\\"}"#, #"{"id":3,"name":"w"} "#,
    ]

    @Test("records written from templates read as each alone, byte for byte")
    func templatedRecordsAsAlone() throws {
        try checkAgainstAlone { index, next in
            // Mostly a few layouts in turn (as a service's lines are), now and then any of them.
            let layout = Self.layouts[index % 7 == 6 ? next(Self.layouts.count) : (index / 50 % 3) * 3 + next(3)]
            let spaced = next(11) == 0
            let members = layout.map { key -> String in
                let value = key == "trace_id" || key == "span_id" ? (next(2) == 0 ? Self.trace : #""zz""#) : Self.values[next(Self.values.count)]
                return spaced ? #" "\#(key)" : \#(value) "# : #""\#(key)":\#(value)"#
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    @Test("objects written from templates read as each alone, byte for byte")
    func templatedObjectsAsAlone() throws {
        try checkAgainstAlone { index, next in
            let user = Self.objects[next(4) == 0 ? next(Self.objects.count) : next(3)]
            let other = Self.objects[next(Self.objects.count)]
            return #"{"msg":"m","user":\#(user),"n":\#(index),"o":\#(other)}"#
        }
    }

    /// Times mostly of one date and clock, as a batch's are (`NanosecondDigits.fraction` writes those
    /// from their text), with every length of fraction, other zones and seconds, and malformed ones.
    static let times = [
        "2026-11-24T10:00:00.250Z", "2026-11-24T10:00:00Z", "2026-11-24T10:00:00.1z", "2026-11-24T10:00:00.123456789Z",
        "2026-11-24T10:00:00.12345678Z", "2026-11-24T10:00:00.1234567891Z", "2026-11-24T10:00:00.5+01:00", "2026-11-24T10:00:01.5Z",
        "2026-11-24 10:00:00.25Z", "2026-11-24T10:00:00.Z", "2026-11-24T10:00:00.1x3Z", "2016-12-31T23:59:60.5Z", "1970-01-01T00:00:00.5Z",
    ]

    @Test("times written from their text read as each alone, byte for byte")
    func timesAsAlone() throws {
        try checkAgainstAlone(minimumTemplates: 1) { index, next in
            let time = Self.times[next(3) == 0 ? next(Self.times.count) : next(5)]
            return #"{"msg":"m","ts":"\#(time)","n":\#(index)}"#
        }
    }

    @Test("a time format other than RFC 3339 reads every time itself, never from the last one's text")
    func patternTimesNotFromText() throws {
        let enricher = Enricher(mode: .merge, fields: [])
        enricher.recordsMembers = true
        var batch = RecordBatch()
        // The pattern takes three digits of fraction; RFC 3339 would take the second and third times too.
        let times = ["2026-11-24T10:00:00.250Z", "2026-11-24T10:00:00.25051Z", "2026-11-24T10:00:00Z", "2026-11-24T10:00:00.125Z"]
        for time in times {
            _ = Array(#"{"msg":"m","ts":"\#(time)"}"#.utf8).withUnsafeBytes { enricher.encode(.complete($0), partial: false, into: &batch) }
        }
        batch.padMemberSpans()
        var options = OTLPOptions()
        options.timeFormat = try TimeFormat("%Y-%m-%dT%H:%M:%S.%LZ")
        let body = GrowableBytes()
        OTLPFormat(options: options, shape: RecordShape(fields: [])).encode(batch, Array(0..<batch.count), into: body)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.bytes)) as? [String: Any])
        let records =
            ((((object["resourceLogs"] as? [[String: Any]])?.first?["scopeLogs"] as? [[String: Any]])?.first)?["logRecords"] as? [[String: Any]])
            ?? []
        #expect(records.map { $0["timeUnixNano"] as? String } == ["1795514400250000000", nil, nil, "1795514400125000000"])
    }

    static let trace = #""0123456789abcdef0123456789abcdef""#

    /// Six hundred records from `line` (given each record's index and a pseudo-random choice below
    /// a bound) through the enricher, written in one request and each alone: the request is the
    /// records alone joined, byte for byte, and most of them were written from templates (at least
    /// `minimumTemplates` made).
    func checkAgainstAlone(minimumTemplates: Int = 11, _ line: (Int, (Int) -> Int) -> String) throws {
        let fields = [
            EnrichmentField(key: "host", value: Array(#""h""#.utf8)), EnrichmentField(key: "file", value: nil, source: .file),
            EnrichmentField(key: "stream", value: nil, source: .stream), EnrichmentField(key: "processed_at", value: nil),
        ]
        let enricher = Enricher(mode: .merge, fields: fields)
        enricher.recordsMembers = true
        var batch = RecordBatch()
        enricher.beginBatch()
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        var lines: [String] = []
        for index in 0..<600 {
            lines.append(line(index, next))
            enricher.begin(next(16) == 0 ? .stream(.stderr) : .file(origin: "abcdefgh"), format: .json)
            _ = Array(lines[index].utf8).withUnsafeBytes { enricher.encode(.complete($0), partial: false, into: &batch) }
        }
        batch.padMemberSpans()
        let shape = RecordShape(fields: fields)
        let format = OTLPFormat(options: OTLPOptions(), shape: shape)
        let together = GrowableBytes()
        format.encode(batch, Array(0..<batch.count), into: together)
        // Every record alone, joined as a request of all of them is.
        let head = OTLPFormat.jsonHead(shape)
        var joined = head
        for index in 0..<batch.count {
            let alone = OTLPFormat.jsonBody(batch, [index], shape: shape)
            try #require(alone.count > head.count + 6)
            if index > 0 { joined.append(UInt8(ascii: ",")) }
            joined += alone[head.count..<(alone.count - 6)]
        }
        joined += Array("]}]}]}".utf8)
        let body = Array(together.bytes)
        if body != joined {
            let at = (0..<min(body.count, joined.count)).first { body[$0] != joined[$0] } ?? min(body.count, joined.count)
            let ours = String(decoding: body[max(0, at - 200)..<min(body.count, at + 100)], as: UTF8.self)
            let alone = String(decoding: joined[max(0, at - 200)..<min(joined.count, at + 100)], as: UTF8.self)
            Issue.record("differs at byte \(at): \(ours) against \(alone)")
        }
        // Most records were written from templates.
        #expect(format.templates.made >= minimumTemplates && format.templates.made < batch.count / 2, "\(format.templates.made) templates made")
        // And the body is OTLP's JSON.
        #expect((try? JSONSerialization.jsonObject(with: Data(body))) != nil)

        // The protobuf writer reads records from the same templates: each log record as alone.
        var protobufOptions = OTLPOptions()
        protobufOptions.encoding = .protobuf
        let protobuf = OTLPFormat(options: protobufOptions, shape: shape)
        let protobufBody = GrowableBytes()
        protobuf.encode(batch, Array(0..<batch.count), into: protobufBody)
        let logRecords = Self.logRecords(Array(protobufBody.bytes))
        try #require(logRecords.count == batch.count)
        for index in 0..<batch.count {
            let aloneBody = GrowableBytes()
            OTLPFormat(options: protobufOptions, shape: shape).encode(batch, [index], into: aloneBody)
            if Self.logRecords(Array(aloneBody.bytes)) != [logRecords[index]] {
                Issue.record("protobuf record \(index) differs from alone")
            }
        }
        #expect(protobuf.templates.made >= minimumTemplates && protobuf.templates.made < batch.count / 2, "\(protobuf.templates.made) made")
    }

    /// The log records of an OTLP protobuf body (`ResourceLogs` 1, `ScopeLogs` 2, `LogRecord` 2).
    static func logRecords(_ body: [UInt8]) -> [ArraySlice<UInt8>] {
        guard let scopeLogs = ProtobufReader.field(1, in: body[...]).flatMap({ ProtobufReader.field(2, in: $0) }) else { return [] }
        var reader = ProtobufReader(scopeLogs)
        var records: [ArraySlice<UInt8>] = []
        while let (field, value) = reader.next() { if field == 2, case .bytes(let record) = value { records.append(record) } }
        return records
    }

    /// OTLP's last processing time as text (`InlineBytes`), compared with each record's.
    @Test("inline bytes: equal to the same bytes of every length to 40, not with one byte changed or another length")
    func inlineBytes() throws {
        for count in 0...40 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let kept = try #require(bytes.withUnsafeBytes { InlineBytes($0) })
            #expect(bytes.withUnsafeBytes { kept.equals($0) })
            #expect(!(bytes + [1]).withUnsafeBytes { kept.equals($0) })
            for place in 0..<count {
                var other = bytes
                other[place] ^= 0x01
                #expect(!other.withUnsafeBytes { kept.equals($0) }, "\(count) bytes, \(place)")
            }
        }
        #expect([UInt8](repeating: 0, count: 41).withUnsafeBytes { InlineBytes($0) } == nil)
    }

    /// The enricher keeps members only of records none of whose keys is a field's, so its flag and a
    /// key go together; a template still compares the flags: here an application's `host` (an
    /// attribute) and ours (the resource's) in the same bytes, in members made by hand.
    @Test("a template tells the enricher's members from the application's with the same bytes")
    func flagsTold() throws {
        let shape = RecordShape(fields: [EnrichmentField(key: "host", value: Array(#""h""#.utf8))])
        var batch = RecordBatch()
        for index in 0..<6 {
            let line = Array(#"{"a":\#(index),"host":"h"}"#.utf8)
            batch.bytes += line + [0x0A]
            batch.recordEnds.append(batch.bytes.count)
            let members = [
                JSONScanner.Member(key: 2..<3, keyIsEscaped: false, value: 5..<6, valueIsString: false),
                JSONScanner.Member(key: 8..<12, keyIsEscaped: false, value: 14..<17, valueIsString: true),
            ]
            let memberStart = batch.members.count
            batch.members += members.enumerated().map { PackedMember($1, shift: 0, enrichment: $0 == 1 && index % 2 == 0) }
            batch.memberSpans.append(memberStart..<batch.members.count)
        }
        let body = GrowableBytes()
        let format = OTLPFormat(options: OTLPOptions(), shape: shape)
        format.encode(batch, Array(0..<batch.count), into: body)
        #expect(format.templates.made == 2)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(body.bytes)) as? [String: Any])
        let resourceLogs = try #require(document["resourceLogs"] as? [[String: Any]])
        let scopeLogs = try #require(resourceLogs.first?["scopeLogs"] as? [[String: Any]])
        let records = try #require(scopeLogs.first?["logRecords"] as? [[String: Any]])
        let keys = records.map { (($0["attributes"] as? [[String: Any]]) ?? []).compactMap { $0["key"] as? String } }
        #expect(keys == (0..<6).map { $0 % 2 == 0 ? ["a"] : ["a", "host"] })
    }
}
