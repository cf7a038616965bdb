import Foundation
import Testing

@testable import Configuration
@testable import Filters
@testable import Records

/// The byte-level pieces the HTTP formats write and read records with.
@Suite("byte appends and record members")
struct ByteAppendTests {
    @Test("appendDecimal writes what String(value) does: 0, every digit count, pair boundaries, UInt64.max, random")
    func decimals() {
        var values: [UInt64] = [0, 1, 9, 10, 11, 99, 100, 101, 109, 110, 999, 1000, 1001, 1_000_000, UInt64.max, UInt64.max - 1]
        var power: UInt64 = 1
        for _ in 0..<19 {
            power *= 10
            values += [power - 1, power, power + 1]
        }
        values += (0..<2000).map { _ in UInt64.random(in: 0...UInt64.max) >> UInt64.random(in: 0..<64) }
        for value in values {
            var array: [UInt8] = []
            array.appendDecimal(value)
            var buffer = GrowableBytes()
            buffer.appendDecimal(value)
            #expect(array == Array(String(value).utf8), "\(value)")
            #expect(Array(buffer.bytes) == array, "\(value) into a buffer")
        }
    }

    @Test("NanosecondDigits writes what String(value) does through a run of times: same second, next, back, below one, UInt64.max")
    func nanosecondDigits() {
        let second: UInt64 = 1_764_000_000_000_000_000
        var values: [UInt64] = [second, second + 1, second + 999_999_999, second + 1_000_000_000, second + 5, second - 1, 0, 7, 999_999_999]
        values += [1_000_000_000, 1_000_000_001, 10_000_000_000, UInt64.max, UInt64.max - 1, second + 10, second]
        values += (0..<3000).map { _ in second &+ UInt64.random(in: 0..<4_000_000_000) }
        values += (0..<1000).map { _ in UInt64.random(in: 0...UInt64.max) >> UInt64.random(in: 0..<64) }
        var times = NanosecondDigits()
        var array: [UInt8] = []
        var buffer = GrowableBytes()
        var expected: [UInt8] = []
        for value in values {
            let start = array.count
            times.append(value, to: &array)
            times.append(value, to: &buffer)
            #expect(Array(array[start...]) == Array(String(value).utf8), "\(value)")
            expected += Array(String(value).utf8)
        }
        #expect(Array(buffer.bytes) == expected)
    }

    @Test("NanosecondDigits writes an RFC 3339 text's digits from its fraction as from its value, through runs of texts")
    func nanosecondDigitsFromText() {
        let clocks =
            ["2026-11-24T10:00:00", "2026-11-24T10:00:01", "2026-11-24t10:00:01", "2026-11-24 10:00:01", "2016-12-31T23:59:60"]
            + ["1970-01-01T00:00:00", "1970-01-01T00:00:01", "2554-07-21T23:34:33", "2026-02-30T10:00:00", "2026-11-24T10:0a:00"]
        var tails = ["Z", "z", "+01:00", "-00:00", ".Z", ".", "", "Zx", ".1a3Z", ".12 Z", ".123456789012Z", ".5+02:00", "x123Z"]
        for digits in 1...12 {
            tails += ["." + String(repeating: "7", count: digits) + "Z", "." + String((0..<digits).map { _ in "0123456789".randomElement()! }) + "z"]
        }
        var texts: [String] = []
        for _ in 0..<4000 {
            // Runs of one clock, as records of a batch have.
            let clock = Bool.random() ? clocks[0] : clocks.randomElement()!
            texts += (0..<Int.random(in: 1...4)).map { _ in clock + tails.randomElement()! }
        }
        var times = NanosecondDigits()
        var fromText = 0
        for text in texts {
            // The text among other bytes, digits and a zone after it: nothing past its end is read.
            let buffer = Array(("9" + text + "5Z9").utf8)
            var written: [UInt8] = []
            buffer.withUnsafeBytes { raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[1..<(raw.count - 3)])
                if let fraction = times.fraction(bytes) {
                    times.append(fraction, to: &written)
                    fromText += 1
                } else if let value = RFC3339.nanoseconds(bytes) {
                    times.note(bytes, value)
                    times.append(value, to: &written)
                }
            }
            let expected = text.utf8.withContiguousStorageIfAvailable { RFC3339.nanoseconds(UnsafeRawBufferPointer($0)) } ?? nil
            #expect(written == (expected.map { Array(String($0).utf8) } ?? []), "\(text)")
        }
        #expect(fromText > texts.count / 5, "\(fromText) of \(texts.count) from their text")
    }

    @Test("appendNineDigits writes nine digits with the leading zeros")
    func nineDigits() {
        for value: UInt32 in [0, 1, 9, 10, 99, 100, 12_345_678, 100_000_000, 999_999_999]
            + (0..<1000).map({ _ in UInt32.random(in: 0..<1_000_000_000) })
        {
            var array: [UInt8] = []
            array.appendNineDigits(value)
            let text = String(value)
            #expect(array == Array((String(repeating: "0", count: 9 - text.count) + text).utf8), "\(value)")
        }
        // The word-wide digits against `String` over the whole range, a value every 9,973 (its lanes'
        // edges among them: 9,999 and 10,000 in each half, 99 and 100 in each quarter).
        var wrong: [UInt32] = []
        for value in stride(from: UInt32(0), to: 1_000_000_000, by: 9_973) + [9_999, 10_000, 99_990_000, 99_999_999, 100_009_999] {
            var array: [UInt8] = []
            array.appendNineDigits(value)
            let text = String(value)
            if array != Array((String(repeating: "0", count: 9 - text.count) + text).utf8) { wrong.append(value) }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
    }

    /// Each case runs in a child process of its own: it must end it.
    @Test("out of memory while a body grows exits 1 with a message that says so, never a shorter body", arguments: [0, 1, 2])
    func outOfMemoryExits(path: Int) async {
        await #expect(processExitsWith: .exitCode(1), observing: [\.standardErrorContent]) { [path] in
            let buffer = GrowableBytes(reallocate: { _, _ in nil })
            switch path {
            case 0: buffer.append(1)
            case 1: Array(repeating: UInt8(7), count: 100).withUnsafeBytes { buffer.appendBytes($0) }
            default: _ = buffer.appendWritten(maximum: 10) { _ in 0 }
            }
            Issue.record("the append returned after an allocation failed")
        }.map { result in
            let message = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(message.contains("log-sidecar: out of memory") && message.contains("exiting without moving the checkpoint"), "\(message)")
            #expect(message.contains("(bytes requested: 65536)"), "\(message)")
        }
    }

    @Test("GrowableBytes appends of every length up to 40, past its growth, equal what was appended")
    func bufferAppends() {
        let buffer = GrowableBytes()
        var expected: [UInt8] = []
        for round in 0..<4000 {
            let piece = (0..<(round % 41)).map { _ in UInt8.random(in: 0...255) }
            piece.withUnsafeBytes { buffer.appendBytes($0) }
            expected += piece
        }
        #expect(expected.count > 64 << 10)
        #expect(Array(buffer.bytes) == expected)
    }

    @Test("record members: keys and values with quotes, backslashes and escapes anywhere come out whole")
    func members() throws {
        let pieces = ["a", "bcdefgh", "\"", "\\", "\\\"", "\n", "é", " ", "{", "]", ","]
        for round in 0..<500 {
            var object: [(String, String)] = []
            for member in 0..<Int.random(in: 0...6) {
                let key = "k\(member)" + (0..<Int.random(in: 0...12)).map { _ in pieces.randomElement() ?? "" }.joined()
                object.append((key, (0..<Int.random(in: 0...24)).map { _ in pieces.randomElement() ?? "" }.joined()))
            }
            var record = Array("{".utf8)
            for (index, (key, value)) in object.enumerated() {
                if index > 0 { record.append(UInt8(ascii: ",")) }
                JSONEscaper.appendQuoted(ArraySlice(key.utf8), to: &record)
                record.append(UInt8(ascii: ":"))
                // Strings, and the same text inside an object, which the container path skips.
                if index % 2 == 0 {
                    JSONEscaper.appendQuoted(ArraySlice(value.utf8), to: &record)
                } else {
                    record += Array(#"{"x":"#.utf8)
                    JSONEscaper.appendQuoted(ArraySlice(value.utf8), to: &record)
                    record.append(UInt8(ascii: "}"))
                }
            }
            record.append(UInt8(ascii: "}"))
            var found: [(String, Any)] = []
            let isObject = record.withUnsafeBytes { raw in
                RecordMembers.forEach(raw) { member in
                    let key = try? JSONSerialization.jsonObject(with: Data([0x22] + raw[member.key] + [0x22]), options: .fragmentsAllowed) as? String
                    let value = try? JSONSerialization.jsonObject(with: Data(raw[member.value]), options: .fragmentsAllowed)
                    found.append((key ?? "?", value ?? "?"))
                }
            }
            #expect(isObject, "round \(round)")
            #expect(found.count == object.count, "round \(round): \(String(decoding: record, as: UTF8.self))")
            for (index, ((key, value), (foundKey, foundValue))) in zip(object, found).enumerated() {
                #expect(foundKey == key, "round \(round)")
                if index % 2 == 0 {
                    #expect(foundValue as? String == value, "round \(round)")
                } else {
                    #expect((foundValue as? [String: String])?["x"] == value, "round \(round)")
                }
            }
        }
    }
}
