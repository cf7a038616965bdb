import Foundation
import Testing

@testable import Configuration
@testable import Filters
@testable import Processing
@testable import Records
@testable import Sinks

/// The scanner's verdict against a reference parser (Foundation's), and the enricher's output parsed
/// back, on generated lines valid and invalid. Where the two differ on purpose, the test says why.
@Suite("JSON differential")
struct JSONDifferentialTests {
    func reference(_ line: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }

    let enricher = Enricher(
        mode: .merge, fields: [EnrichmentField(key: "host", value: Array(#""node-1""#.utf8)), EnrichmentField(key: "processed_at", value: nil)])

    /// The enricher's record for `line`, and whether it was shipped as a parse error.
    func enrich(_ line: String) -> (record: String, parseError: Bool) {
        var batch = RecordBatch()
        enricher.beginBatch()
        let outcome = Array(line.utf8).withUnsafeBytes { enricher.encode(.complete($0), partial: false, into: &batch) }
        return (String(decoding: batch.bytes.dropLast(), as: UTF8.self), outcome == .parseError)
    }

    /// Deep equality of parsed JSON values, through a canonical serialization (arrays and objects
    /// do not bridge to NSObject here).
    static func same(_ a: Any, _ b: Any) -> Bool {
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .fragmentsAllowed]
        return (try? JSONSerialization.data(withJSONObject: [a], options: options))
            == (try? JSONSerialization.data(withJSONObject: [b], options: options))
    }

    /// Every output is one valid JSON object; a valid input keeps every member, with its value.
    func checkOutput(_ line: String, expectObject: Bool) {
        let (record, parseError) = enrich(line)
        #expect(!record.contains("\n"), "one line: \(line)")
        guard let output = reference(record) else {
            Issue.record("not a JSON object for \(line.prefix(80)): \(record.prefix(200))")
            return
        }
        #expect(parseError == !expectObject, "verdict for \(line.prefix(80))")
        #expect(output["host"] != nil && output["processed_at"] != nil)
        if parseError {
            #expect(output["message"] is String && output["parse_error"] as? Bool == true)
        } else if let input = reference(line) {
            for (key, value) in input {
                #expect(output[key].map { Self.same($0, value) } == true, "member \(key) of \(line.prefix(80))")
            }
        }
    }

    @Test("valid lines: the scanner agrees with Foundation, and every member survives the enricher")
    func validLines() {
        var generator = JSONTextGenerator(seed: 11)
        for _ in 0..<20_000 {
            let line = generator.valid()
            #expect(reference(line) != nil, "Foundation rejects a valid line: \(line.prefix(120))")
            checkOutput(line, expectObject: true)
        }
    }

    @Test(
        "invalid lines of every kind: the scanner rejects them as Foundation does (stricter on trailing commas), shipped as parse errors",
        arguments: JSONTextGenerator.Invalid.allCases)
    func invalidLines(_ kind: JSONTextGenerator.Invalid) {
        var generator = JSONTextGenerator(seed: UInt64(kind.rawValue.count))
        for _ in 0..<200 {
            let line = generator.invalid(kind)
            // Foundation accepts a trailing comma; RFC 8259 does not, and neither do we.
            if kind != .trailingComma { #expect(reference(line) == nil, "Foundation took \(line.prefix(80))") }
            checkOutput(line, expectObject: false)
        }
    }

    @Test("numbers beyond a Double (1e400): valid RFC 8259, which Foundation refuses; shipped as the application wrote them")
    func hugeNumbers() {
        for line in [#"{"a":1e400}"#, #"{"a":-1e400,"b":[1E+999]}"#] {
            let (record, parseError) = enrich(line)
            #expect(!parseError && record.hasPrefix(String(line.dropLast())), "\(record)")
        }
    }

    @Test("lone surrogates: valid RFC 8259 grammar, which Foundation refuses; shipped as objects with U+FFFD, by one decoder")
    func loneSurrogates() throws {
        for (line, expected) in [
            (#"{"a":"\ud800"}"#, "\u{FFFD}"), (#"{"a":"x\udc00y"}"#, "x\u{FFFD}y"), (#"{"a":"\ud800\u0041"}"#, "\u{FFFD}A"),
            (#"{"a":"\ud800\ud800\udc00"}"#, "\u{FFFD}\u{10000}"), (#"{"a":"\\ud800"}"#, "\\ud800"),
        ] {
            checkOutput(line, expectObject: true)
            let output = try #require(reference(enrich(line).record))
            #expect(output["a"] as? String == expected, "enricher: \(line)")
            #expect(try JSONParser.parse(line)["a"] == .string(expected), "parser: \(line)")
            var unescaped: [UInt8] = []
            let content = line.dropFirst(6).dropLast(2)
            Array(content.utf8).withUnsafeBytes { JSONUnescape.append($0, to: &unescaped) }
            #expect(String(decoding: unescaped, as: UTF8.self) == expected, "unescape: \(line)")
        }
    }
}
