import Foundation
import Logging
import TestSupport
import Testing

@testable import Configuration
@testable import Filters
@testable import HTTPSinks
@testable import Processing
@testable import Records
@testable import Tailing
@testable import Telemetry

/// The formats' pure parts in memory: timestamps, severities, OTLP's values, Loki's labels, bulk item
/// answers, the URLs, and the origins that name Elasticsearch's documents.
@Suite("HTTP formats, in memory")
struct HTTPFormatUnitTests {
    func nanoseconds(_ text: String) -> UInt64? {
        Array(text.utf8).withUnsafeBytes { RFC3339.nanoseconds($0) }
    }

    @Test("RFC 3339: fractions, zones, a space for T, leap days; anything else nil")
    func rfc3339() {
        #expect(nanoseconds("1970-01-01T00:00:00Z") == 0)
        #expect(nanoseconds("2026-11-28T10:00:00.123456789Z") == 1_795_860_000_123_456_789)
        #expect(nanoseconds("2026-11-28T10:00:00.5Z") == 1_795_860_000_500_000_000)
        // Fractions of one to twelve digits: the first nine count, scaled to nanoseconds.
        let digits = "987654321012"
        for length in 1...12 {
            let fraction = String(digits.prefix(length))
            let expected = UInt64(String((fraction + "000000000").prefix(9)))! + 1_795_860_000_000_000_000
            #expect(nanoseconds("2026-11-28T10:00:00.\(fraction)Z") == expected, "\(length) digits")
            #expect(nanoseconds("2026-11-28T10:00:00.\(fraction)+00:00") == expected, "\(length) digits")
        }
        #expect(nanoseconds("2026-11-28T10:00:00.Z") == nil && nanoseconds("2026-11-28T10:00:00.1") == nil)
        #expect(nanoseconds("2026-11-28T10:00:00.1:Z") == nil && nanoseconds("2026-11-28T10:00:00./Z") == nil)
        #expect(nanoseconds("2026-11-28 12:00:00+02:00") == 1_795_860_000_000_000_000)
        #expect(nanoseconds("2026-11-28t05:30:00-04:30") == 1_795_860_000_000_000_000)
        #expect(nanoseconds("2024-02-29T23:59:59z") == 1_709_251_199_000_000_000)
        for bad in [
            "2023-02-29T00:00:00Z", "2026-11-28T10:00:00", "2026-11-28", "yesterday", "2026-13-01T00:00:00Z",
            "2026-11-28T10:00:00.Z", "2026-11-28T10:00:00+0200", "1969-12-31T23:59:59Z", "2026-11-28T24:00:00Z",
        ] {
            #expect(nanoseconds(bad) == nil, "\(bad)")
        }
    }

    @Test("RFC 3339's date and clock read a word at a time agree with the byte by byte reading, every byte of them changed")
    func rfc3339Words() {
        let samples = [
            "2026-11-28T10:00:00.123456789Z", "2024-02-29 23:59:59+02:00", "1970-01-01t00:00:00z", "2554-07-21T23:34:33.709551615Z",
            "1999-12-31T23:59:60Z", "2026-04-30T09:05:07-11:59",
        ]
        // One memo through every reading, as a reader keeps it from record to record: a time whose date
        // and clock are the last one's takes its seconds from it.
        var memo = RFC3339.SecondsMemo()
        for sample in samples {
            let bytes = Array(sample.utf8)
            #expect(bytes.withUnsafeBytes { RFC3339.nanoseconds($0) } == bytes.withUnsafeBytes { RFC3339.nanosecondsBytewise($0) })
            for position in 0..<19 {
                for value in 0...255 {
                    var changed = bytes
                    changed[position] = UInt8(value)
                    let fast = changed.withUnsafeBytes { RFC3339.nanoseconds($0) }
                    let remembered = changed.withUnsafeBytes { RFC3339.nanoseconds($0, memo: &memo) }
                    let slow = changed.withUnsafeBytes { RFC3339.nanosecondsBytewise($0) }
                    if fast != slow || remembered != slow {
                        Issue.record("\(sample), byte \(position) = \(value): \(String(describing: fast)) against \(String(describing: slow))")
                    }
                }
            }
        }
        // The same second with other fractions and zones, and with none; fractions of every length to
        // twelve digits (up to nine in UTC read a word at a time), some with a byte that is no digit.
        var tails = ["Z", ".5Z", "+01:00", "-00:30", "", ".", ".Z", "+01", "Zx", ".123456789012z", ".9999999999Z", ".12:4Z", ".1/Z"]
        for digits in 1...12 {
            for _ in 0..<40 {
                tails.append("." + String((0..<digits).map { _ in "0123456789".randomElement()! }) + (Bool.random() ? "Z" : "z"))
            }
            tails.append("." + String(repeating: "9", count: digits) + "Z")
            tails.append("." + String(repeating: "0", count: digits - 1) + "1Z")
        }
        for tail in tails {
            let bytes = Array(("2026-11-28T10:00:00" + tail).utf8)
            let remembered = bytes.withUnsafeBytes { RFC3339.nanoseconds($0, memo: &memo) }
            #expect(remembered == bytes.withUnsafeBytes { RFC3339.nanosecondsBytewise($0) }, "\(tail)")
        }
        // Past 2554 no time, also when the date and clock are the last ones read.
        for text in ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59.5Z", "9999-12-31T23:59:59Z"] {
            #expect(Array(text.utf8).withUnsafeBytes { RFC3339.nanoseconds($0, memo: &memo) } == nil, "\(text)")
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let alphabet = Array("0123456789-:T Zz.+".utf8)
            let bytes = (0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
            let slow = bytes.withUnsafeBytes { RFC3339.nanosecondsBytewise($0) }
            #expect(bytes.withUnsafeBytes { RFC3339.nanoseconds($0) } == slow)
            #expect(bytes.withUnsafeBytes { RFC3339.nanoseconds($0, memo: &memo) } == slow)
        }
    }

    @Test("severity: OTel's numbers by name in any case, pino's numeric levels, 0 otherwise")
    func severity() {
        let cases: [(String, Int)] = [
            (#""trace""#, 1), (#""DEBUG""#, 5), (#""info""#, 9), (#""Warning""#, 13), (#""error""#, 17), (#""fatal""#, 21),
            ("30", 9), ("50", 17), (#""verbose""#, 0), ("3", 0), (#""a very long level name indeed""#, 0),
            // Packed with their lengths: a prefix, a longer name and the 15- and 16-byte bounds.
            (#""INFORMATION""#, 9), (#""inf""#, 0), (#""infox""#, 0), (#""""#, 0), ("", 0), (#""emergencyxxxxxx""#, 0),
            (#""emergencyxxxxxxx""#, 0), (#""errorerrorerror""#, 0),
        ]
        for (text, number) in cases {
            #expect(Array(text.utf8).withUnsafeBytes { OTLPFormat.severity($0) } == number, "\(text)")
        }
        // The JSON writer's memo answers as the lookup does, for texts that share its entries, over
        // and over in every order.
        let memo = OTLPFormat.SeverityMemo()
        let texts =
            cases.map(\.0) + (0..<40).map { #""level\#($0)""# } + ["\"info\"x", "\"Info\"", "\"info\" ", "\"informatiox\"", "\"information\""]
        for round in 0..<3 {
            for text in round == 1 ? texts.reversed() : texts {
                let bytes = Array(text.utf8)
                #expect(bytes.withUnsafeBytes { memo.number($0) } == bytes.withUnsafeBytes { OTLPFormat.severity($0) }, "\(text)")
            }
        }
        // Only A-Z fold: `@` and `[` lie just outside them, 0xC1 and 0xDA are A and Z with the high bit.
        func name(_ bytes: [UInt8]) -> OTLPFormat.LevelName? { bytes.withUnsafeBytes { OTLPFormat.LevelName($0) } }
        for length in 1...15 {
            let upper = (0..<length).map { UInt8(0x41 + $0 % 26) }
            #expect(name(upper) == name(upper.map { $0 | 0x20 }), "\(length) bytes")
            for other: UInt8 in [0x40, 0x5B, 0xC1, 0xDA] {
                var changed = upper
                changed[length / 2] = other
                var lowered = changed
                lowered[length / 2] = other | 0x20
                #expect(name(changed) != name(lowered), "\(length) bytes, \(other)")
            }
        }
    }

    /// `NumberShape` checks numbers of up to eight bytes in two words: every such number, and the
    /// shapes around it, gets the answer of reading it byte by byte.
    @Test("a short number is an integer exactly when its bytes are all digits, and has an exponent exactly when it has an e")
    func shortNumberShapes() {
        var numbers = [
            "0", "7", "-0", "-7", "0.5", "1e5", "1E5", "-1.5", "2.5e-3", "123456789", "-12345678", "1234567.8", "1.5E+3", "-2e7", "9E-9",
        ]
        for length in 1...8 {
            for seed in 0..<40 {
                var digits = String((seed * 7_919 + length * 104_729) % Int(pow(10.0, Double(length))))
                digits = String(repeating: "1", count: max(0, length - digits.count)) + digits
                numbers.append(digits)
                if length > 1 { numbers.append("-" + digits.dropFirst()) }
                if length > 2 {
                    let point = digits.index(digits.startIndex, offsetBy: 1 + seed % (length - 2))
                    numbers.append(String(digits[..<point]) + "." + String(digits[digits.index(after: point)...]))
                    numbers.append(String(digits.dropLast()) + "e")
                }
            }
        }
        for number in numbers {
            let bytes = Array(number.utf8)
            let digits = bytes.first == UInt8(ascii: "-") ? bytes.dropFirst() : bytes[...]
            let expected = !digits.isEmpty && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
            #expect(bytes.withUnsafeBytes { AnyValueWriter.isInt64($0) } == expected, "\(number)")
            let hasExponent = bytes.contains { $0 | 0x20 == UInt8(ascii: "e") }
            #expect(bytes.withUnsafeBytes { AnyValueWriter.NumberShape($0).hasExponent } == hasExponent, "\(number)")
        }
    }

    @Test("AnyValue keeps each JSON type; int64's bounds; numbers past a double's range as text")
    func anyValue() {
        func encoded(_ json: String) -> String {
            var out: [UInt8] = []
            Array(json.utf8).withUnsafeBytes { AnyValueWriter.append($0, to: &out) }
            return String(decoding: out, as: UTF8.self)
        }
        #expect(encoded(#""a\"b""#) == #"{"stringValue":"a\"b"}"#)
        #expect(encoded("9223372036854775807") == #"{"intValue":"9223372036854775807"}"#)
        #expect(encoded("-9223372036854775808") == #"{"intValue":"-9223372036854775808"}"#)
        #expect(encoded("9223372036854775808") == #"{"doubleValue":9223372036854775808}"#)
        #expect(encoded("1.5e3") == #"{"doubleValue":1.5e3}"#)
        #expect(encoded("1e400") == #"{"stringValue":"1e400"}"#)
        #expect(encoded("null") == "{}")
        #expect(encoded("false") == #"{"boolValue":false}"#)
        #expect(
            encoded(#"{"a":[1,{"b":null}]}"#)
                == #"{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{"values":[{"intValue":"1"},{"kvlistValue":{"values":[{"key":"b","value":{}}]}}]}}}]}}"#
        )
        #expect(encoded("[]") == #"{"arrayValue":{"values":[]}}"#)
        // A key-value joins the literals around strings and numbers: the same bytes as its parts.
        for json in [
            #""a\"b""#, "7", "-7", "12.5", "9223372036854775808", "1.5e3", "1e400", "-0", "null", "true", "false", "{}", "[1]", "",
        ] {
            var out: [UInt8] = []
            Array(json.utf8).withUnsafeBytes { value in
                Array("k".utf8).withUnsafeBytes { AnyValueWriter.appendKeyValue(key: $0, value: value, to: &out) }
            }
            #expect(String(decoding: out, as: UTF8.self) == #"{"key":"k","value":"# + encoded(json) + "}", "\(json)")
        }
    }

    @Test("OTLP JSON: a record reads the same written into reserved room as through the buffer, within the room's bound")
    func otlpReservedRoom() throws {
        // The values that grow most: empty containers, one-byte elements, deep nesting.
        let dense = [
            "{}", "[]", "[{},{},{}]", "[[],[],[]]", #"{"":{}}"#, "[1,1,1,1]", "[true,false,null]", #"{"a":[{"":[{}]}]}"#,
            String(repeating: "[", count: 40) + String(repeating: "]", count: 40), #""é\"""#, "-0.5e-3", "1e400",
        ]
        for json in dense {
            var out: [UInt8] = []
            Array(json.utf8).withUnsafeBytes { AnyValueWriter.append($0, to: &out) }
            #expect(out.count <= 16 * json.utf8.count + 13, "\(json)")
        }
        let members = dense.enumerated().map { #""k\#($0.offset)":\#($0.element)"# }.joined(separator: ",")
        let format = OTLPFormat(options: OTLPOptions(), shape: RecordShape())
        let empty = GrowableBytes()
        format.encode(RecordBatch(), [], into: empty)
        func logRecord(padding: Int) throws -> NSDictionary {
            let line =
                #"{"msg":"m","level":"warn","ts":"2026-01-01T00:00:00Z","# + members + #","pad":""# + String(repeating: "x", count: padding) + #""}"#
            var batch = RecordBatch()
            batch.bytes = Array(line.utf8) + [0x0A]
            batch.recordEnds.append(batch.bytes.count)
            let body = GrowableBytes()
            format.encode(batch, [0], into: body)
            #expect(body.count - empty.count <= OTLPFormat.maximumJSON(line.utf8.count))
            let document = try #require(try JSONSerialization.jsonObject(with: Data(body.bytes)) as? [String: Any])
            let resourceLogs = try #require(document["resourceLogs"] as? [[String: Any]])
            let scopeLogs = try #require(resourceLogs.first?["scopeLogs"] as? [[String: Any]])
            var record = try #require((scopeLogs.first?["logRecords"] as? [[String: Any]])?.first)
            // The processing time is now; the padding is what differs.
            record["observedTimeUnixNano"] = nil
            let attributes = try #require(record["attributes"] as? [[String: Any]])
            // The time stays among the attributes, as the message and the level do not.
            #expect(attributes.count == dense.count + 2)
            record["attributes"] = attributes.filter { $0["key"] as? String != "pad" }
            return record as NSDictionary
        }
        // Below `boundedRecordBytes` the record goes into reserved room; above, through the buffer.
        #expect(try logRecord(padding: 10) == logRecord(padding: OTLPFormat.boundedRecordBytes))
    }

    @Test("OTLP's roles and Loki's time found past a record's 64th member, where the reader keeps no bits")
    func rolesPastSixtyFour() throws {
        let filler = (0..<70).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
        let line = #"{"level":"warn","# + filler + #","msg":"late","ts":"1970-01-01T00:00:02Z"}"#
        // As written (the reader scans it) and through the enricher (the reader takes its members).
        var written = RecordBatch()
        written.bytes = Array(line.utf8) + [0x0A]
        written.recordEnds.append(written.bytes.count)
        let fields = [EnrichmentField(key: "host", value: Array(#""h""#.utf8))]
        let enricher = Enricher(mode: .merge, fields: fields)
        enricher.recordsMembers = true
        var enriched = RecordBatch()
        enricher.beginBatch()
        _ = Array(line.utf8).withUnsafeBytes { enricher.encode(.complete($0), partial: false, into: &enriched) }
        enriched.padMemberSpans()
        #expect(enriched.members.withUnsafeBufferPointer { enriched.members(of: 0, in: $0)?.count } == 74)
        for (batch, shape) in [(written, RecordShape()), (enriched, RecordShape(fields: fields))] {
            let otlp = GrowableBytes()
            OTLPFormat(options: OTLPOptions(), shape: shape).encode(batch, [0], into: otlp)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(otlp.bytes)) as? [String: Any])
            let resourceLogs = try #require(document["resourceLogs"] as? [[String: Any]])
            let scopeLogs = try #require(resourceLogs.first?["scopeLogs"] as? [[String: Any]])
            let record = try #require((scopeLogs.first?["logRecords"] as? [[String: Any]])?.first)
            #expect((record["body"] as? [String: Any])?["stringValue"] as? String == "late")
            #expect(record["severityText"] as? String == "warn" && record["timeUnixNano"] as? String == "2000000000")
            // The 70 others and the time; `host` is the resource's.
            #expect((record["attributes"] as? [Any])?.count == 71)
            let loki = GrowableBytes()
            LokiFormat(options: LokiOptions(), shape: shape).encode(batch, [0], into: loki)
            let streams = try #require(
                (try JSONSerialization.jsonObject(with: Data(loki.bytes)) as? [String: Any])?["streams"] as? [[String: Any]])
            #expect((streams.first?["values"] as? [[String]])?.first?.first == "2000000000")
        }
    }

    @Test("OTLP's roles from record to record in one batch: as each record alone finds them, whatever its neighbours' keys")
    func rolesFromRecordToRecord() throws {
        let trace = "0123456789abcdef0123456789abcdef"
        let span = "0123456789abcdef"
        let lines = [
            #"{"msg":"a","level":"info","ts":"2026-11-24T10:00:00.100Z"}"#,
            #"{"msg":"b","level":"warn","ts":"2026-11-24T10:00:00.200Z"}"#,
            #"{"level":"error","msg":"c"}"#,
            #"{"mzg":"d","level":"info"}"#,
            #"{"msg":"e","level":"debug"}"#,
            #"{"message":"f","msg":"g"}"#,
            #"{"msg":"h","message":"i"}"#,
            #"{"msg":"j","trace_id":"\#(trace)","span_id":"\#(span)"}"#,
            #"{"msg":"k","trace_id":"not hex","span_id":"zz"}"#,
            #"{"msg":"l","trace_id":"\#(trace)","span_id":"\#(span)"}"#,
            #"{"msg":"m","level":"info","ts":"2026-11-24T10:00:00.300Z"}"#,
            #"{"message":"n","timestamp":"2026-11-24T10:00:01Z","@timestamp":"2026-11-24T10:00:02Z","level":"warn"}"#,
            #"{"message":"o","timestamp":"2026-11-24T10:00:03Z","@timestamp":"2026-11-24T10:00:04Z","level":"warn"}"#,
            #"{"msg":"p","level":"info","ts":"2026-11-24T10:00:00.400Z"}"#,
        ]
        var batch = RecordBatch()
        for line in lines {
            batch.bytes += Array(line.utf8) + [0x0A]
            batch.recordEnds.append(batch.bytes.count)
        }
        func logRecords(_ records: [Int]) throws -> [NSMutableDictionary] {
            let body = GrowableBytes()
            OTLPFormat(options: OTLPOptions(), shape: RecordShape()).encode(batch, records, into: body)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(body.bytes)) as? [String: Any])
            let resourceLogs = try #require(document["resourceLogs"] as? [[String: Any]])
            let scopeLogs = try #require(resourceLogs.first?["scopeLogs"] as? [[String: Any]])
            let found = try #require(scopeLogs.first?["logRecords"] as? [[String: Any]])
            // The processing time is the clock's here, read once per call.
            return found.map {
                let record = NSMutableDictionary(dictionary: $0)
                record.removeObject(forKey: "observedTimeUnixNano")
                return record
            }
        }
        let together = try logRecords(Array(lines.indices))
        try #require(together.count == lines.count)
        for index in lines.indices {
            #expect(try together[index] == logRecords([index]).first, "\(lines[index])")
        }
        #expect((together[2]["body"] as? [String: Any])?["stringValue"] as? String == "c")
        #expect(together[2]["severityText"] as? String == "error" && together[4]["severityText"] as? String == "debug")
        #expect(together[3]["body"] == nil && (together[6]["body"] as? [String: Any])?["stringValue"] as? String == "h")
        #expect(together[7]["traceId"] as? String == trace && together[7]["spanId"] as? String == span)
        #expect(together[8]["traceId"] == nil && together[8]["spanId"] == nil)
        #expect(together[9]["traceId"] as? String == trace)
        #expect(together[13]["timeUnixNano"] as? String == "1795514400400000000")
    }

    @Test("Loki label names: invalid characters become _, a leading digit gets one in front")
    func lokiLabels() {
        #expect(HTTPSinkConfig.lokiLabel("app.name") == "app_name")
        #expect(HTTPSinkConfig.lokiLabel("kubernetes-pod/x") == "kubernetes_pod_x")
        #expect(HTTPSinkConfig.lokiLabel("5xx") == "_5xx")
        #expect(HTTPSinkConfig.lokiLabel("é") == "_")
        #expect(HTTPSinkConfig.lokiLabel("level") == "level")
    }

    @Test("a Loki body groups records by label set in the order first seen")
    func lokiGrouping() throws {
        var options = LokiOptions()
        options.labelFields = ["level"]
        let format = LokiFormat(options: options, shape: RecordShape())
        var batch = RecordBatch()
        for line in [#"{"level":"info","time":"1970-01-01T00:00:01Z","n":1}"#, #"{"level":"warn","n":2}"#, #"{"level":"info","n":3}"#, #"{"n":4}"#] {
            batch.bytes += Array(line.utf8) + [0x0A]
            batch.recordEnds.append(batch.bytes.count)
        }
        let body = GrowableBytes()
        format.encode(batch, [0, 1, 2, 3], into: body)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(body.bytes)) as? [String: Any])
        let streams = try #require(document["streams"] as? [[String: Any]])
        #expect(streams.map { $0["stream"] as? [String: String] ?? [:] } == [["level": "info"], ["level": "warn"], ["job": "log-sidecar"]])
        let values = streams.map { ($0["values"] as? [[String]] ?? []).map { $0[1] } }
        #expect(values[0] == [#"{"level":"info","time":"1970-01-01T00:00:01Z","n":1}"#, #"{"level":"info","n":3}"#])
        #expect((streams[0]["values"] as? [[String]])?.first?.first == "1000000000")
    }

    @Test("bulk items: 2xx and 409 delivered, 429 and 5xx sent again, others dead-lettered with their error")
    func bulkItems() {
        func item(_ status: Int, error: String = "") -> JSONValue {
            var result: [(key: String, value: JSONValue)] = [("_id", .string("x")), ("status", .number(String(status)))]
            if !error.isEmpty { result.append(("error", .object([("type", .string(error)), ("reason", .string("because"))]))) }
            return .object([("create", .object(result))])
        }
        #expect(ElasticsearchFormat.itemVerdict(item(201)) == .delivered)
        #expect(ElasticsearchFormat.itemVerdict(item(409, error: "version_conflict_engine_exception")) == .delivered)
        #expect(ElasticsearchFormat.itemVerdict(item(429, error: "es_rejected_execution_exception")) == .retry("item 429: because"))
        guard case .retry = ElasticsearchFormat.itemVerdict(item(503)) else {
            Issue.record("503")
            return
        }
        guard case .rejected(400, let detail) = ElasticsearchFormat.itemVerdict(item(400, error: "mapper_parsing_exception")) else {
            Issue.record("400")
            return
        }
        #expect(String(decoding: detail, as: UTF8.self).contains("mapper_parsing_exception"))
        let format = ElasticsearchFormat(options: ElasticsearchOptions())
        let fine = HTTPResponse(status: 200, body: Array(#"{"took":3,"errors":false,"items":[]}"#.utf8), seconds: 0, transportError: "")
        #expect(format.verdict(fine, count: 5) == .delivered)
        let short = HTTPResponse(status: 200, body: Array(#"{"took":3,"errors":true,"items":[]}"#.utf8), seconds: 0, transportError: "")
        guard case .transient = format.verdict(short, count: 5) else {
            Issue.record("an item count that does not match")
            return
        }
    }

    @Test("OTLP answers: partial success counted, only 429/502/503/504 retried, the rest final")
    func otlpVerdicts() {
        let format = OTLPFormat(options: OTLPOptions(), shape: RecordShape())
        func verdict(_ status: Int, _ body: String = "") -> HTTPVerdict {
            format.verdict(HTTPResponse(status: status, body: Array(body.utf8), seconds: 0, transportError: ""), count: 10)
        }
        #expect(verdict(200, "{}") == .delivered)
        #expect(verdict(200, #"{"partialSuccess":{}}"#) == .delivered)
        #expect(verdict(200, #"{"partialSuccess":{"rejectedLogRecords":"4","errorMessage":"bad"}}"#) == .partiallyRejected(4, "bad"))
        for status in [429, 502, 503, 504] {
            guard case .transient = verdict(status) else {
                Issue.record("\(status)")
                continue
            }
        }
        for status in [400, 408, 500, 501] {
            guard case .rejected = verdict(status) else {
                Issue.record("\(status)")
                continue
            }
        }
        guard case .configuration = verdict(401) else {
            Issue.record("401")
            return
        }
    }

    @Test("protobuf: a length past 127 bytes widens its prefix; strings unescaped; varints and fields read back")
    func protobuf() {
        let out = GrowableBytes()
        let long = String(repeating: "x", count: 300)
        let key = Array("k\\u00e9y".utf8)
        let value = Array("\"\(long)\\n\"".utf8)
        key.withUnsafeBytes { key in value.withUnsafeBytes { ProtobufAnyValue.appendKeyValue(6, key: key, value: $0, to: out) } }
        let bytes = Array(out.bytes)
        guard let pair = ProtobufReader.field(6, in: bytes[...]) else {
            Issue.record("no field 6")
            return
        }
        #expect(bytes.count == pair.count + 3)  // tag and a two-byte length
        var reader = ProtobufReader(pair)
        guard case (1, .bytes(let name))? = reader.next() else {
            Issue.record("no key")
            return
        }
        #expect(String(decoding: name, as: UTF8.self) == "kéy")
        guard case (2, .bytes(let any))? = reader.next(), let text = ProtobufReader.field(1, in: any) else {
            Issue.record("no value")
            return
        }
        #expect(String(decoding: text, as: UTF8.self) == long + "\n")
        let negative = GrowableBytes()
        Array("-1".utf8).withUnsafeBytes { ProtobufAnyValue.append($0, to: negative) }
        #expect(Array(negative.bytes) == [0x18] + Array(repeating: 0xFF, count: 9) + [0x01])
        let response: [UInt8] = [0x0A, 0x07, 0x08, 0x03, 0x12, 0x03] + Array("bad".utf8)
        #expect(OTLPFormat.protobufPartialSuccess(response).map { $0 == (3, "bad") } == true)
        #expect(OTLPFormat.protobufPartialSuccess([0x0A, 0x00]) == nil)
        #expect(OTLPFormat.protobufPartialSuccess([0x0A, 0x7F, 0x01]) == nil)
    }

    @Test("protobuf: records written in reserved room and, past 16 KiB, in the body read back whole, lengths widened in place")
    func protobufRecordsBoundedAndNot() throws {
        let enricher = Enricher(mode: .merge, fields: [])
        enricher.recordsMembers = true
        var batch = RecordBatch()
        // Bodies of every size around the lengths' widths (127, 128, 16,383, 16,384) and past 16 KiB,
        // each with an attribute of the same size inside an object (nested lengths widened twice).
        let sizes = [0, 1, 100, 127, 128, 300, 5000, 16_383, 16_384, 20_000, 70_000, 3]
        for size in sizes {
            let text = String(repeating: "a", count: size)
            let line = #"{"msg":"\#(text)","n":-1,"o":{"k":"\#(text)","a":[1.5,"\#(text)"]}}"#
            _ = Array(line.utf8).withUnsafeBytes { enricher.encode(.complete($0), partial: false, into: &batch) }
        }
        batch.padMemberSpans()
        let body = GrowableBytes()
        var options = OTLPOptions()
        options.encoding = .protobuf
        OTLPFormat(options: options, shape: RecordShape(fields: [])).encode(batch, Array(0..<batch.count), into: body)
        let bytes = Array(body.bytes)
        let scopeLogs = try #require(ProtobufReader.field(1, in: bytes[...]).flatMap { ProtobufReader.field(2, in: $0) })
        var reader = ProtobufReader(scopeLogs)
        var bodies: [Int] = []
        while let (field, value) = reader.next() {
            guard field == 2, case .bytes(let logRecord) = value else { continue }
            let text = try #require(ProtobufReader.field(5, in: logRecord).flatMap { ProtobufReader.field(1, in: $0) })
            bodies.append(text.count)
            #expect(text.allSatisfy { $0 == UInt8(ascii: "a") })
            // The attributes: n, then o, whose list holds k and a (the array: a double and the text).
            var fields = ProtobufReader(logRecord)
            var attributes: [ArraySlice<UInt8>] = []
            while let (number, item) = fields.next() { if number == 6, case .bytes(let pair) = item { attributes.append(pair) } }
            try #require(attributes.count == 2)
            let list = try #require(
                ProtobufReader.field(2, in: attributes[1]).flatMap { ProtobufReader.field(6, in: $0) })
            let inner = try #require(
                ProtobufReader.field(1, in: list).flatMap { ProtobufReader.field(2, in: $0) }.flatMap { ProtobufReader.field(1, in: $0) })
            #expect(inner.count == text.count)
        }
        #expect(bodies == sizes)
    }

    @Test("protobuf: a key with an escape is written decoded, at the top and in an object; one without, as it is")
    func protobufEscapedKeys() throws {
        let enricher = Enricher(mode: .merge, fields: [])
        enricher.recordsMembers = true
        var batch = RecordBatch()
        let line = #"{"msg":"m","k\u00e9y":1,"plain":2,"o":{"\"q\"":3,"r":4}}"#
        _ = Array(line.utf8).withUnsafeBytes { enricher.encode(.complete($0), partial: false, into: &batch) }
        batch.padMemberSpans()
        let body = GrowableBytes()
        var options = OTLPOptions()
        options.encoding = .protobuf
        OTLPFormat(options: options, shape: RecordShape(fields: [])).encode(batch, [0], into: body)
        let bytes = Array(body.bytes)
        let logRecord = try #require(
            ProtobufReader.field(1, in: bytes[...]).flatMap { ProtobufReader.field(2, in: $0) }.flatMap { ProtobufReader.field(2, in: $0) })
        var fields = ProtobufReader(logRecord)
        var keys: [String] = []
        var object: ArraySlice<UInt8>?
        while let (number, item) = fields.next() {
            guard number == 6, case .bytes(let pair) = item, let key = ProtobufReader.field(1, in: pair) else { continue }
            keys.append(String(decoding: key, as: UTF8.self))
            if keys.last == "o" { object = ProtobufReader.field(2, in: pair).flatMap { ProtobufReader.field(6, in: $0) } }
        }
        #expect(keys == ["kéy", "plain", "o"])
        var inner = ProtobufReader(try #require(object))
        var innerKeys: [String] = []
        while let (number, item) = inner.next() {
            if number == 1, case .bytes(let pair) = item, let key = ProtobufReader.field(1, in: pair) {
                innerKeys.append(String(decoding: key, as: UTF8.self))
            }
        }
        #expect(innerKeys == ["\"q\"", "r"])
    }

    @Test("protobuf numbers: integers as Int64 parses them, doubles bit for bit as strtod reads them, both in one pass")
    func protobufNumbers() {
        var texts = ["0", "-0", "1", "-1", "0.5", "-0.0", "12.5", "9223372036854775807", "-9223372036854775808", "9223372036854775808"]
        texts += ["123456789012345678", "1234567890123456789", "0.1", "0.3", "1.7976931348623157", "999999999999999", "9999999999999999"]
        texts += ["1e5", "1E-3", "-2.5e+10", "0.000000000000001", "123456789.012345", "1234567890.1234567", "5e-324", "1e400"]
        for _ in 0..<20000 {
            let digits = String((0..<Int.random(in: 1...20)).map { _ in "0123456789".randomElement()! })
            // JSON's grammar: no leading zero before other digits.
            let whole = digits.first == "0" && digits.count > 1 ? "1" + digits.dropFirst() : digits
            var text = (Bool.random() ? "-" : "") + whole
            if Bool.random() { text.insert(".", at: text.index(text.endIndex, offsetBy: -Int.random(in: 0..<min(whole.count, 17)))) }
            if text.last == "." { text += "5" }
            if text.hasPrefix(".") || text.hasPrefix("-.") { text = text.replacingOccurrences(of: ".", with: "0.") }
            if Int.random(in: 0..<8) == 0 { text += "e" + String(Int.random(in: -30...30)) }
            texts.append(text)
        }
        for text in texts {
            let bytes = Array(text.utf8)
            let integer = bytes.withUnsafeBytes { AnyValueWriter.int64($0) }
            let isInteger = !text.contains(".") && !text.lowercased().contains("e")
            #expect(integer == (isInteger ? Int64(text) : nil), "\(text)")
            let double = bytes.withUnsafeBytes { AnyValueWriter.double($0) }
            #expect(double.bitPattern == strtod(text, nil).bitPattern, "\(text)")
            // The protobuf writer's one pass: the integer when there is one, else the double.
            switch bytes.withUnsafeBytes({ AnyValueWriter.number($0) }) {
            case .int(let value): #expect(value == integer, "\(text)")
            case .double(let value): #expect(integer == nil && value.bitPattern == double.bitPattern, "\(text)")
            }
        }
    }

    @Test("protobuf: a string's escapes found at every place of every length to 40, read within the string only")
    func protobufBackslashes() {
        for count in 0...40 {
            // The string between bytes that are backslashes: none of them may be taken for its own.
            let plain = [UInt8(ascii: "\\")] + [UInt8](repeating: UInt8(ascii: "a"), count: count) + [UInt8(ascii: "\\")]
            #expect(plain.withUnsafeBytes { !RecordMembers.hasBackslash(UnsafeRawBufferPointer(rebasing: $0[1..<(1 + count)])) }, "\(count)")
            for place in 0..<count {
                var escaped = plain
                escaped[1 + place] = UInt8(ascii: "\\")
                #expect(
                    escaped.withUnsafeBytes { RecordMembers.hasBackslash(UnsafeRawBufferPointer(rebasing: $0[1..<(1 + count)])) },
                    "\(count) at \(place)")
            }
        }
    }

    @Test("the record reader: members and their sources from record to record, wider and narrower, under raw, and not an object")
    func recordReader() {
        let fields = [
            EnrichmentField(key: "host", value: Array(#""h""#.utf8)), EnrichmentField(key: "processed_at", value: nil),
            EnrichmentField(key: "file", value: nil, source: .file),
        ]
        func read(_ reader: inout RecordReader, _ text: String) -> [String]? {
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBytes { record -> [String]? in
                guard reader.read(record) else {
                    #expect(reader.members.isEmpty)
                    return nil
                }
                let members = reader.members
                return members.indices.map { index in
                    let (member, source) = (members[index], members.source(at: index))
                    return String(decoding: record[member.key], as: UTF8.self) + "=" + String(decoding: record[member.value], as: UTF8.self)
                        + (source.map { " (\($0))" } ?? "")
                }
            }
        }
        var merged = RecordReader(shape: RecordShape(fields: fields))
        let wide = "{" + (0..<40).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + #","host":"h"}"#
        #expect(read(&merged, #"{"a":1,"host":"h"}"#) == ["a=1", #"host="h" (fixed)"#])
        #expect(read(&merged, wide)?.count == 41)
        #expect(read(&merged, wide)?.last == #"host="h" (fixed)"#)
        #expect(
            read(&merged, #"{"host":"own","processed_at":"2026-12-04T18:00:00Z","file":"/a"}"#)
                == [#"host="own""#, #"processed_at="2026-12-04T18:00:00Z" (time)"#, #"file="/a" (file)"#], "the application's host is its own")
        #expect(merged.timeMember == 1)
        #expect(read(&merged, "[1,2]") == nil && merged.timeMember == nil)
        var wrapped = RecordReader(shape: RecordShape(fields: fields, wrapped: true))
        #expect(
            read(&wrapped, #"{"raw":{"a":1,"host":"x"},"host":"h","processed_at":"t"}"#) == [
                "a=1", #"host="x""#, #"host="h" (fixed)"#, #"processed_at="t" (time)"#,
            ])
        #expect(wrapped.timeMember == 3)
        #expect(read(&wrapped, #"{"raw":"text","host":"h"}"#) == [#"raw="text""#, #"host="h" (fixed)"#])
    }

    @Test("members kept with the records are what the reader's own scan finds; records not written from one scan keep none")
    func keptMembers() {
        let fields = [EnrichmentField(key: "host", value: Array(#""h""#.utf8)), EnrichmentField(key: "processed_at", value: nil)]
        let enricher = Enricher(mode: .merge, fields: fields)
        enricher.recordsMembers = true
        let wide = "{" + (0..<40).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + "}"
        // Each line, whether its members are kept (true) or its reader scans it (false).
        let lines: [([UInt8], Bool, partial: Bool)] = [
            (Array(#"{"a":1,"b":"x"}"#.utf8), true, false),
            (Array(#"  {"a":1}  "#.utf8), true, false),
            (Array(#"{ "a" : 1 , "b" : [ 1 , 2 ] }"#.utf8), true, false),
            (Array(#"{"k\u0041":"v","n":[1,{"x":2}],"o":{"p":null},"t":true,"f":-1.5e3}"#.utf8), true, false),
            (Array(#"{"é":"ü"}"#.utf8), true, false),
            (Array(wide.utf8), true, false),
            (Array(#"{"host":"own","a":2}"#.utf8), false, false),
            (Array("{}".utf8), false, false),
            (Array(#"{"a":""#.utf8) + [0xFF] + Array(#""}"#.utf8), false, false),
            (Array("not json".utf8), false, false),
            (Array(#"{"a":1}"#.utf8), false, partial: true),
            (Array(#"{"a":3}"#.utf8), true, false),
        ]
        var batch = RecordBatch()
        enricher.beginBatch()
        for (line, _, partial) in lines {
            _ = line.withUnsafeBytes { enricher.encode(.complete($0), partial: partial, into: &batch) }
        }
        // As the pipeline does before it delivers: the records at the end that kept none.
        batch.padMemberSpans()
        #expect(batch.count == lines.count && batch.memberSpans.count == lines.count)
        func check(_ batch: RecordBatch, _ expected: ArraySlice<([UInt8], Bool, partial: Bool)>) {
            var scanning = RecordReader(shape: RecordShape(fields: fields))
            var taking = RecordReader(shape: RecordShape(fields: fields))
            batch.bytes.withUnsafeBytes { raw in
                batch.members.withUnsafeBufferPointer { allMembers in
                    for (index, line) in zip(0..., expected) {
                        let record = batch.record(index, in: raw)
                        let kept = batch.members(of: index, in: allMembers)
                        #expect((kept != nil) == line.1, "\(String(decoding: record, as: UTF8.self))")
                        guard let kept else { continue }
                        #expect(scanning.read(record) && taking.read(record, members: kept))
                        #expect(
                            taking.members.map { [$0.key, $0.value] } == scanning.members.map { [$0.key, $0.value] }
                                && taking.members.map { [$0.keyIsEscaped, $0.valueIsString] }
                                    == scanning.members.map { [$0.keyIsEscaped, $0.valueIsString] }
                                && taking.members.indices.map { taking.members.source(at: $0) }
                                    == scanning.members.indices.map { scanning.members.source(at: $0) }
                                && taking.timeMember == scanning.timeMember && taking.timeMember != nil,
                            "\(String(decoding: record, as: UTF8.self))")
                    }
                }
            }
        }
        check(batch, lines[...])
        // Cut in two as a sink's batch is (`PreparedBatch.take`): each part's members still its records'.
        for cut in [1, 6, 9, 11] {
            var head = batch
            var tail = RecordBatch()
            tail.append(head, from: cut, members: true)
            head.removeRecords(from: cut)
            #expect(head.count == cut && head.memberSpans.count == cut && tail.count == lines.count - cut)
            check(head, lines[..<cut])
            check(tail, lines[cut...])
            var joined = head
            joined.append(tail, from: 0, members: true)
            #expect(joined.bytes == batch.bytes && joined.recordEnds == batch.recordEnds)
            check(joined, lines[...])
        }
        var withoutMembers = RecordBatch()
        withoutMembers.append(batch, from: 3, members: false)
        #expect(withoutMembers.members.isEmpty && withoutMembers.memberSpans.isEmpty && withoutMembers.count == lines.count - 3)
        // Records that came without members keep their places: the next ones' spans stay theirs.
        var mixed = RecordBatch()
        mixed.append(withoutMembers, from: 0, members: true)
        mixed.append(batch, from: 0, members: true)
        #expect(
            mixed.memberSpans.count == mixed.count
                && (0..<withoutMembers.count).allSatisfy { index in mixed.members.withUnsafeBufferPointer { mixed.members(of: index, in: $0) == nil }
                })
        var tail = RecordBatch()
        tail.append(mixed, from: withoutMembers.count, members: true)
        check(tail, lines[...])
    }

    /// The reader takes the sources of a record's enrichment members from the last record's when the
    /// suffix is the same bytes (`RecordReader.take`): a file's suffix and a stream's here have the
    /// same length and number of members, the time at another place after the journal's.
    @Test("kept members' sources follow the suffix as it changes from record to record")
    func keptSuffixes() {
        let fields = [
            EnrichmentField(key: "host", value: Array(#""h""#.utf8)), EnrichmentField(key: "file", value: nil, source: .file),
            EnrichmentField(key: "stream", value: nil, source: .stream), EnrichmentField(key: "processed_at", value: nil),
        ]
        let enricher = Enricher(mode: .merge, fields: fields)
        enricher.recordsMembers = true
        let sources: [LineSource] = [
            .file(origin: "abcdefgh"), .stream(.stdout), .stream(.stdout), .journal, .file(origin: "abcdefgh"), .stream(.stderr),
        ]
        var batch = RecordBatch()
        enricher.beginBatch()
        for (index, source) in sources.enumerated() {
            enricher.begin(source, format: .json)
            _ = Array(#"{"a":\#(index)}"#.utf8).withUnsafeBytes { enricher.encode(.complete($0), partial: false, into: &batch) }
        }
        batch.padMemberSpans()
        var scanning = RecordReader(shape: RecordShape(fields: fields))
        var taking = RecordReader(shape: RecordShape(fields: fields))
        batch.bytes.withUnsafeBytes { raw in
            batch.members.withUnsafeBufferPointer { allMembers in
                for index in sources.indices {
                    let record = batch.record(index, in: raw)
                    guard let kept = batch.members(of: index, in: allMembers) else {
                        Issue.record("no members kept: \(String(decoding: record, as: UTF8.self))")
                        continue
                    }
                    #expect(scanning.read(record) && taking.read(record, members: kept))
                    #expect(
                        taking.members.indices.map { taking.members.source(at: $0) }
                            == scanning.members.indices.map { scanning.members.source(at: $0) }
                            && taking.timeMember == scanning.timeMember && taking.timeMember != nil,
                        "\(String(decoding: record, as: UTF8.self))")
                }
            }
        }
    }

    @Test("a path in the URL is kept; without one the format's is added")
    func urls() {
        #expect(HTTPFormats.url("http://collector:4318", defaultPath: "/v1/logs") == "http://collector:4318/v1/logs")
        #expect(HTTPFormats.url("http://collector:4318/", defaultPath: "/v1/logs") == "http://collector:4318/v1/logs")
        #expect(HTTPFormats.url("https://otlp.example.com/otlp/v1/logs", defaultPath: "/v1/logs") == "https://otlp.example.com/otlp/v1/logs")
        #expect(HTTPFormats.url("http://es:9200?pipeline=p", defaultPath: "/_bulk") == "http://es:9200?pipeline=p")
    }

    @Test("origins: each line's offset; the same lines named alike by another reader; a rewritten file named otherwise")
    func origins() throws {
        let directory = TestDirectory()
        let path = directory.file("app.log")
        let lines = (0..<40).map { #"{"seq":\#($0)}"# }
        directory.write("app.log", lines.joined(separator: "\n") + "\n")
        func read() throws -> [RecordOrigin] {
            let consumer = RecordingConsumer()
            var config = InputConfig()
            config.paths = [path]
            config.checkpointPath = ""
            config.readFrom = .beginning
            let server = FileServer(config: config, consumer: consumer, counters: Counters(sinkNames: []), logger: Logger(label: "test"))
            try server.start(from: nil)
            _ = try server.cycle()
            return consumer.origins
        }
        let first = try read()
        #expect(first.count == 40)
        var offset: Int64 = 0
        for (origin, line) in zip(first, lines) {
            #expect(origin.offset == offset)
            offset += Int64(line.utf8.count + 1)
        }
        // A line ending before byte 256 is named by the bytes up to its end; after, by the first 256.
        #expect(Set(first.map(\.source)).count > 1)
        #expect(try read() == first)
        directory.write("app.log", (lines.map { $0 + " " }).joined(separator: "\n") + "\n")
        let rewritten = try read()
        #expect(zip(rewritten, first).allSatisfy { $0.source != $1.source })
    }
}
