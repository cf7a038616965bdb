import Testing

@testable import Configuration
@testable import Filters
@testable import Processing
@testable import Records

@Suite("Enricher records")
struct EnricherRecordTests {
    static let host = EnrichmentField(key: "host", value: Array(#""node-1""#.utf8))

    /// Each line's record in one batch, in order, split at the batch's record ends.
    static func records(_ enricher: Enricher, _ lines: [(String, partial: Bool)]) -> [String] {
        var batch = RecordBatch()
        enricher.beginBatch()
        for (line, partial) in lines {
            _ = Array(line.utf8).withUnsafeBytes { enricher.encode(.complete($0), partial: partial, into: &batch) }
        }
        var start = 0
        return batch.recordEnds.map { end in
            defer { start = end }
            return String(decoding: batch.bytes[start..<end], as: UTF8.self)
        }
    }

    /// The records the enricher writes whole (the line, the fields and the closing bytes in one
    /// append) between those it writes piece by piece (a colliding key, a partial line, a parse error,
    /// spaces to drop), with and without fields and members kept: each record closed once.
    @Test("every record ends in one closing brace and newline, however it was written", arguments: [false, true])
    func closedOnce(keepsMembers: Bool) {
        let lines: [(String, partial: Bool)] = [
            (#"{"a":1}"#, false), (#"{}"#, false), (#"{"host":"mine","b":2}"#, false), (#"{"c":"x"}"#, false),
            (#"{"d":true}"#, true), (#"{"e":null}"#, false), (#"{"f":"#, false), (#"{"g":[1]}"#, false), (#"  {"h":2}  "#, false),
            (#"{"i":{}}"#, false),
        ]
        let withHost = Enricher(mode: .merge, fields: [Self.host])
        withHost.recordsMembers = keepsMembers
        #expect(
            Self.records(withHost, lines) == [
                #"{"a":1,"host":"node-1"}"# + "\n", #"{"host":"node-1"}"# + "\n", #"{"host":"mine","b":2}"# + "\n",
                #"{"c":"x","host":"node-1"}"# + "\n", #"{"d":true,"host":"node-1","partial":true}"# + "\n",
                #"{"e":null,"host":"node-1"}"# + "\n", #"{"message":"{\"f\":","parse_error":true,"host":"node-1"}"# + "\n",
                #"{"g":[1],"host":"node-1"}"# + "\n", #"{"h":2,"host":"node-1"}"# + "\n", #"{"i":{},"host":"node-1"}"# + "\n",
            ])
        let plain = Enricher(mode: .merge, fields: [])
        plain.recordsMembers = keepsMembers
        #expect(
            Self.records(plain, lines) == [
                #"{"a":1}"# + "\n", "{}\n", #"{"host":"mine","b":2}"# + "\n", #"{"c":"x"}"# + "\n", #"{"d":true,"partial":true}"# + "\n",
                #"{"e":null}"# + "\n", #"{"message":"{\"f\":","parse_error":true}"# + "\n", #"{"g":[1]}"# + "\n", #"{"h":2}"# + "\n",
                #"{"i":{}}"# + "\n",
            ])
    }

    /// A line with bytes that are not UTF-8 is repaired and takes the suffix piece by piece
    /// (`appendMergedFields`), between records written whole.
    @Test("a repaired record takes the fields and one closing brace and newline")
    func repairedClosedOnce() {
        for fields in [[Self.host], []] {
            let enricher = Enricher(mode: .merge, fields: fields)
            var batch = RecordBatch()
            enricher.beginBatch()
            for line in [Array(#"{"a":1}"#.utf8), Array(#"{"j":""#.utf8) + [0xFF] + Array(#""}"#.utf8), Array(#"{"b":2}"#.utf8)] {
                _ = line.withUnsafeBytes { enricher.encode(.complete($0), partial: false, into: &batch) }
            }
            let host = fields.isEmpty ? "" : #","host":"node-1""#
            #expect(
                String(decoding: batch.bytes, as: UTF8.self)
                    == #"{"a":1"# + host + "}\n" + #"{"j":"\#u{FFFD}""# + host + "}\n" + #"{"b":2"# + host + "}\n")
            #expect(batch.recordEnds.count == 3)
        }
    }

    /// The same through filters: a record they leave as it was, one with a member removed, one with
    /// none left, between records the enricher writes piece by piece and one the filters drop.
    @Test("through filters too, every record ends in one closing brace and newline", arguments: [false, true])
    func closedOnceFiltered(withHost: Bool) throws {
        let filters = #"[{"type":"drop","field":"level","equals":["debug"]},{"type":"remove","fields":["x"]}]"#
        let chain = try FilterChain(try FilterSchema.parseList(try JSONParser.parse(filters), key: "filters"))
        let enricher = Enricher(mode: .merge, fields: withHost ? [Self.host] : [], filters: chain)
        let lines: [(String, partial: Bool)] = [
            (#"{"a":1}"#, false), (#"{"a":1,"x":2}"#, false), (#"{"x":2}"#, false), (#"{"host":"mine","x":1}"#, false),
            (#"{"level":"debug"}"#, false), (#"{"b":2,"x":3}"#, true), (#"{"c":"#, false), (#"{"d":[1],"x":{}}"#, false),
        ]
        let host = withHost ? #","host":"node-1""# : ""
        let partialHost = withHost ? #","host":"node-1","partial":true"# : #","partial":true"#
        #expect(
            Self.records(enricher, lines) == [
                #"{"a":1"# + host + "}\n", #"{"a":1"# + host + "}\n", "{" + host.dropFirst() + "}\n", #"{"host":"mine"}"# + "\n",
                #"{"b":2"# + partialHost + "}\n", #"{"message":"{\"c\":","parse_error":true"# + host + "}\n",
                #"{"d":[1]"# + host + "}\n",
            ])
    }
}
