import CJSONClassify
import Foundation
import Testing

@testable import Configuration
@testable import Filters
@testable import Records
@testable import Sinks

/// The escaper against a reference that does one byte at a time, on random bytes of every class
/// (plain, quote, backslash, control, DEL, valid and broken UTF-8) and lengths across its 8-byte words
/// and 4 KiB chunks.
@Suite("JSON escaper")
struct JSONEscaperTests {
    /// What the escaper must write: JSON's escapes, `\u00XX` for other control bytes and DEL, U+FFFD for
    /// each byte that does not start a valid UTF-8 sequence.
    static func reference(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x22]
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= 0x80 {
                let length = bytes.withUnsafeBytes { UTF8Validation.sequenceLength($0, at: index) }
                if length == 0 {
                    out += [0xEF, 0xBF, 0xBD]
                    index += 1
                } else {
                    out += bytes[index..<(index + length)]
                    index += length
                }
                continue
            }
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += Array("\\n".utf8)
            case 0x0D: out += Array("\\r".utf8)
            case 0x09: out += Array("\\t".utf8)
            case 0..<0x20, 0x7F: out += Array(String(format: "\\u%04x", byte).utf8)
            default: out.append(byte)
            }
            index += 1
        }
        return out + [0x22]
    }

    @Test("random bytes of every class, lengths 0 to 10,000: the same as byte by byte, and valid JSON")
    func matchesReference() throws {
        var generator = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [
            Array("plain text ".utf8), [0x22], [0x5C], [0x0A], [0x09], [0x01], [0x1F], [0x7F], Array("é✓😀".utf8),
            [0xC3], [0xE2, 0x9C], [0xFF], [0xED, 0xA0, 0x80], Array("abcdefgh".utf8),
        ]
        for round in 0..<600 {
            let target = round < 300 ? Int.random(in: 0..<64, using: &generator) : Int.random(in: 0..<10_000, using: &generator)
            var bytes: [UInt8] = []
            while bytes.count < target { bytes += pieces.randomElement(using: &generator) ?? [] }
            var escaped: [UInt8] = []
            bytes.withUnsafeBytes { JSONEscaper.appendQuoted($0, to: &escaped) }
            #expect(escaped == Self.reference(bytes), "round \(round), \(bytes.count) bytes")
            // Whether anything needs escaping, a word at a time and the last word overlapping.
            let plain = bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }
            #expect(bytes.withUnsafeBytes { JSONEscaper.isPlain($0) } == plain, "round \(round), isPlain")
            // Straight into a buffer's free space (Loki, OTLP), after what it already holds.
            var buffer = GrowableBytes()
            buffer.appendLiteral("[")
            bytes.withUnsafeBytes { JSONEscaper.appendQuoted($0, to: &buffer) }
            #expect(Array(buffer.bytes) == [UInt8(ascii: "[")] + Self.reference(bytes), "round \(round), into a buffer")
            let decoded = try JSONSerialization.jsonObject(with: Data(escaped), options: .fragmentsAllowed) as? String
            #expect(decoded != nil)
        }
    }

    @Test("the C loop, both builds: quotes and backslashes among plain bytes escaped up to the first byte it leaves, every length to 300")
    func quotesLoop() {
        var generator = SystemRandomNumberGenerator()
        let plain = Array("abcdefghijklmnopqrstuvwxyz {}:,0123456789".utf8)
        for length in 0...300 {
            for round in 0..<4 {
                var bytes = (0..<length).map { _ in
                    let pick = Int.random(in: 0..<10, using: &generator)
                    return pick == 0 ? 0x22 : pick == 1 ? 0x5C : plain.randomElement(using: &generator) ?? 0x61
                }
                // Half the rounds with a byte the loop leaves to its caller, somewhere.
                let stop = round % 2 == 1 && length > 0 ? Int.random(in: 0..<length, using: &generator) : length
                if stop < length { bytes[stop] = [0x0A, 0x7F, 0xC3, 0x00].randomElement(using: &generator) ?? 0x0A }
                let expected = Array(Self.reference(Array(bytes[..<stop])).dropFirst().dropLast())
                for build in [lsc_json_escape_quotes, lsc_json_escape_quotes_baseline] {
                    var target = [UInt8](repeating: 0xEE, count: 2 * length + 32)
                    var written = 0
                    let read = bytes.withUnsafeBufferPointer { source in
                        target.withUnsafeMutableBufferPointer { build(source.baseAddress, length, $0.baseAddress, &written) }
                    }
                    #expect(read == stop && Array(target[..<written]) == expected, "length \(length), round \(round)")
                }
            }
        }
    }
}
