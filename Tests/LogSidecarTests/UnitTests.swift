import Foundation
import TestSupport
import Testing

@testable import Configuration
@testable import Filters
@testable import Records
@testable import Sinks
@testable import SystemSupport
@testable import Tailing

@Suite("Line splitting")
struct LineSplitterTests {
    /// The same text fed in every chunk size gives the same lines as the standard library's split.
    @Test("lines are the same whatever the chunk boundaries", arguments: [1, 2, 3, 7, 64, 1000, 65536])
    func chunkBoundaries(chunk: Int) {
        var text = ""
        for index in 0..<500 { text += String(repeating: "x", count: index % 37) + "ü\(index)\n" }
        text += "tail without newline"
        let bytes = Array(text.utf8)
        let splitter = LineSplitter(maxLineBytes: 1 << 20, readSize: 4096)
        var lines: [String] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunk, bytes.count)
            bytes[offset..<end].withUnsafeBytes { raw in
                splitter.append(raw) { line in
                    if case .complete(let content) = line { lines.append(String(decoding: content, as: UTF8.self)) }
                }
            }
            offset = end
        }
        let expected = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(lines == expected)
        #expect(splitter.pendingBytes == "tail without newline".utf8.count)
    }

    @Test("an over-long line is cut at a UTF-8 boundary and its full length reported; memory stays bounded")
    func overlong() {
        let splitter = LineSplitter(maxLineBytes: 100, readSize: 64)
        var results: [(Int, Int)] = []
        let long = Array(String(repeating: "é", count: 1000).utf8) + [0x0A] + Array("short\n".utf8)
        for start in stride(from: 0, to: long.count, by: 50) {
            long[start..<min(start + 50, long.count)].withUnsafeBytes { raw in
                splitter.append(raw) { line in
                    switch line {
                    case .complete(let content): results.append((content.count, -1))
                    case .truncated(let head, let original):
                        results.append((head.count, original))
                        #expect(String(validating: head, as: UTF8.self) != nil)
                    }
                }
            }
        }
        #expect(results.count == 2)
        #expect(results[0] == (100, 2000))
        #expect(results[1] == (5, -1))
    }
}

@Suite("Truncation check")
struct RotationCheckTests {
    func status(inode: UInt64, size: Int64) -> FileStatus {
        var raw = stat()
        raw.st_dev = 1
        raw.st_ino = __ino_t(inode)
        raw.st_size = off_t(size)
        raw.st_nlink = 1
        raw.st_mode = S_IFREG
        return FileStatus(raw)
    }

    @Test("copytruncate, noticed before and after the file grew back; a file that only grew is not truncated")
    func truncation() {
        let open = status(inode: 10, size: 500)
        #expect(!RotationCheck.truncated(readOffset: 400, open: open, prefixMatches: true))
        #expect(!RotationCheck.truncated(readOffset: 500, open: open, prefixMatches: true))
        // Noticed before the file grew back: shorter than what we read.
        #expect(RotationCheck.truncated(readOffset: 400, open: status(inode: 10, size: 20), prefixMatches: true))
        // Noticed after the file grew past our offset: the first bytes changed.
        #expect(RotationCheck.truncated(readOffset: 400, open: open, prefixMatches: false))
    }
}

@Suite("Output formats")
struct FormatTests {
    @Test("the enricher's key filter never turns away a key that is a field's, and turns away others by length or first byte")
    func keyFilter() {
        // The pairs are hashed to 128 bits: these keys share none of the bits the probes below test
        // (a 70-byte key would share `user`'s).
        let long = Array(repeating: UInt8(ascii: "k"), count: 80)
        let keys: [[UInt8]] = [Array("host".utf8), Array("processed_at".utf8), Array("ünï".utf8), long, Array("partial".utf8)]
        let filter = KeyFilter(keys)
        for key in keys { #expect(filter.mayMatch(key.count, key[0]), "\(key)") }
        #expect(!filter.mayMatch(4, UInt8(ascii: "u")), "user: length of host, other first byte")
        #expect(!filter.mayMatch(3, UInt8(ascii: "h")), "hit: first byte of host, other length")
        #expect(filter.mayMatch(4, UInt8(ascii: "h")), "hall: may be host, compared in full")
        #expect(!filter.mayMatch(4, UInt8(ascii: "p")), "path: length of host, first byte of partial and processed_at")
        let otlp = KeyFilter(["msg", "message", "level", "time", "ts", "timestamp", "@timestamp", "trace_id", "span_id"].map { Array($0.utf8) })
        #expect(!otlp.mayMatch(3, UInt8(ascii: "s")) && !otlp.mayMatch(2, UInt8(ascii: "m")), "seq and ms: lengths and first bytes of two other keys")
        #expect(filter.mayMatch(80 + 256, UInt8(ascii: "k")), "lengths 256 apart share a length bit and a slot: compared in full")
        #expect(!filter.mayMatch(90, UInt8(ascii: "k")), "a long key's length is not capped")
        #expect(!filter.mayMatch(0, UInt8(ascii: "x")), "no field has an empty key")
        #expect(KeyFilter([[]]).mayMatch(0, UInt8(ascii: "x")))
    }

    @Test("timestamps are RFC 3339 UTC with milliseconds")
    func timestamp() {
        var cache = TimestampCache()
        #expect(String(decoding: cache.format(seconds: 1_795_000_000, milliseconds: 7), as: UTF8.self) == "\"2026-11-18T11:06:40.007Z\"")
        #expect(String(decoding: cache.format(seconds: 0, milliseconds: 999), as: UTF8.self) == "\"1970-01-01T00:00:00.999Z\"")
    }

    @Test("journald field names: upper case, A-Z 0-9 _, no leading _ or digit, 64 bytes at most")
    func journaldNames() {
        func name(_ key: String) -> String { String(decoding: JournaldFieldMapper.fieldName(Array(key.utf8)), as: UTF8.self) }
        #expect(name("user.id") == "USER_ID")
        #expect(name("_private") == "PRIVATE")
        #expect(name("9lives") == "LIVES")
        #expect(name("__9x") == "X")
        #expect(name("ключ") == "")
        #expect(name("a-ключ") == "A_____")
        #expect(name(String(repeating: "k", count: 100)).count == 64)
    }

    func fields(_ record: String, messageKey: String = "msg") -> [String] {
        let mapper = JournaldFieldMapper(identifier: "app", messageKey: messageKey, levelKey: "level")
        let entry = Array(record.utf8).withUnsafeBytes { mapper.entry(of: $0) }
        return Self.decodeNative(entry.bytes)
    }

    /// journald's native format read back as journald reads it (`NAME=value\n`, or `NAME\n` + a 64-bit
    /// little-endian length + value + `\n`), each field as `NAME=value`.
    static func decodeNative(_ bytes: [UInt8]) -> [String] {
        var fields: [String] = []
        var index = 0
        while index < bytes.count {
            let lineEnd = bytes[index...].firstIndex(of: 0x0A) ?? bytes.count
            if let equals = bytes[index..<lineEnd].firstIndex(of: UInt8(ascii: "=")) {
                fields.append(
                    String(decoding: bytes[index..<equals], as: UTF8.self) + "=" + String(decoding: bytes[(equals + 1)..<lineEnd], as: UTF8.self))
                index = lineEnd + 1
            } else {
                let length = bytes[(lineEnd + 1)..<(lineEnd + 9)].reversed().reduce(0) { $0 << 8 | Int($1) }
                let value = (lineEnd + 9)..<(lineEnd + 9 + length)
                fields.append(String(decoding: bytes[index..<lineEnd], as: UTF8.self) + "=" + String(decoding: bytes[value], as: UTF8.self))
                #expect(bytes[value.upperBound] == 0x0A)
                index = value.upperBound + 1
            }
        }
        return fields
    }

    @Test("journald entries: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, then every other key")
    func journaldEntry() {
        #expect(
            fields(#"{"msg":"hi \"there\"","level":"warning","n":3,"ok":true,"obj":{"a":[1]},"s":"x\ny","host":"h"}"#) == [
                "MESSAGE=hi \"there\"", "PRIORITY=4", "SYSLOG_IDENTIFIER=app", "N=3", "OK=true", "OBJ={\"a\":[1]}", "S=x\ny", "HOST=h",
            ])
        #expect(fields(#"{"message":"fallback","level":2}"#) == ["MESSAGE=fallback", "PRIORITY=2", "SYSLOG_IDENTIFIER=app"])
        #expect(fields(#"{"a":1}"#) == ["MESSAGE={\"a\":1}", "PRIORITY=6", "SYSLOG_IDENTIFIER=app", "A=1"])
        #expect(fields(#"{"msg":"m","priority":"x"}"#).contains("APP_PRIORITY=x"))
        for (level, priority) in [
            ("trace", 7), ("debug", 7), ("info", 6), ("notice", 5), ("warn", 4), ("error", 3), ("critical", 2), ("fatal", 2), ("7", 7),
        ] {
            #expect(fields("{\"msg\":\"m\",\"level\":\"\(level)\"}")[1] == "PRIORITY=\(priority)")
        }
    }
}

@Suite("Key tables")
struct KeyTableTests {
    @Test("every key equal to a probe, in order, in tables walked whole and by slot: duplicates, an empty key, keys sharing a slot")
    func matches() {
        let long = String(repeating: "k", count: 70)
        // "msg" and "mss" share a length and a first byte, and so do the two long keys; a key 256
        // bytes longer than "ab" with its first byte shares its slot.
        let longer = "a" + String(repeating: "x", count: 257)
        let pool = ["msg", "mss", "", "time", "ts", "msg", long + "a", long + "b", "@timestamp", "level", "m", "trace_id", longer, "span_id", "ts"]
        let probes = pool + ["ms", "msgs", long, "x", "t", "Msg", "ab", "ax"]
        for count in 0...pool.count {
            let keys = Array(pool.prefix(count))
            let table = KeyTable(keys.map { Array($0.utf8) })
            for probe in probes {
                var found: [Int] = []
                Array(probe.utf8).withUnsafeBytes { key in table.forEachMatch(key) { found.append($0) } }
                #expect(found == keys.indices.filter { keys[$0] == probe }, "\(count) keys, probe \(probe.prefix(12))")
                #expect(Array(probe.utf8).withUnsafeBytes { table.contains($0) } == keys.contains(probe))
            }
        }
    }
}

@Suite("Short comparisons")
struct ShortCompareTests {
    @Test("equal bytes of every length to 40 are equal; one byte changed at any place is not")
    func everyPlace() {
        for count in 0...40 {
            let left = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            left.withUnsafeBytes { a in
                Array(left).withUnsafeBytes { b in
                    #expect(
                        ShortCompare.equal(
                            a.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, b.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, count))
                }
            }
            for place in 0..<count {
                var right = left
                right[place] ^= 0x01
                left.withUnsafeBytes { a in
                    right.withUnsafeBytes { b in #expect(!ShortCompare.equal(a.baseAddress!, b.baseAddress!, count), "\(count) bytes, \(place)") }
                }
            }
        }
    }
}

@Suite("JSON validation")
struct JSONScannerTests {
    @Test("RFC 8259, strictly: what is an object and what is not")
    func strictness() {
        let valid = [
            #"{}"#, #"{"a":1}"#, #"{"a":[1,2,{"b":null}],"c":"\u00e9\n"}"#, #" {"a":-0.5e+10} "#, #"{"a":"\ud83d\ude00"}"#,
            #"{"a":{"b":{"c":{}}}}"#, #"{"a":true,"b":false,"c":null,"d":0,"e":1E3}"#,
        ]
        let invalid = [
            #"{"a":01}"#, #"{"a":1,}"#, #"{"a":"\x"}"#, #"{"a":tru}"#, #"{"a" 1}"#, #"{"a":1}}"#, #"[1]"#, #""s""#, #"{"a":"b"#,
            #"{"a":.5}"#, #"{"a":1.}"#, #"{"a":[}"#, "{\"a\":\"tab\there\"}", #"{"a":+1}"#, #"{'a':1}"#, "",
        ]
        for document in valid + invalid {
            let ours = Array(document.utf8).withUnsafeBytes { JSONScanner.scanObject($0) { _ in } != nil }
            let bytewise = Array(document.utf8).withUnsafeBytes { JSONScanner.scanObjectBytewise($0) { _ in } != nil }
            #expect(ours == valid.contains(document) && bytewise == ours, "\(document)")
        }
    }

    /// `RecordMembers`, the walk the filters take through small nested objects and the HTTP formats
    /// through nested values, reports the members the scanner does, escapes, whitespace and brackets
    /// inside strings included; on what is not a valid object it stops without reading past the bytes.
    @Test("the walk of an object already validated reports the scanner's members, and stays in bounds")
    func recordMembers() {
        let documents = [
            #"{}"#, #" { } "#, #"{"a":1}"#, #"{"a\"b":"c\\\"d" , "e" : [ "]" , {"f":"}"} ] ,"g":-1.5e3,"h":true}"#,
            "{\n\t\"a\"\r:\n{\"b\":[[],{}]}\t,\"c\":null }", #"{"a":"x\u0041y","\u00e9":"é"}"#, #"{"":""}"#,
        ]
        for document in documents {
            Array(document.utf8).withUnsafeBytes { bytes in
                var scanned: [JSONScanner.Member] = []
                #expect(JSONScanner.scanObjectBytewise(bytes) { scanned.append($0) } != nil, "\(document)")
                var walked: [JSONScanner.Member] = []
                #expect(RecordMembers.forEach(bytes) { walked.append($0) }, "\(document)")
                #expect(walked == scanned, "\(document)")
            }
        }
        // Cut short or broken anywhere: whatever it reports lies within the bytes.
        let whole = Array(#"{"a\"":"b\\","c":[1,{"d":"]"}],"e":{"f":2},"g":tru"#.utf8)
        for end in 0...whole.count {
            Array(whole[..<end]).withUnsafeBytes { bytes in
                _ = RecordMembers.forEach(bytes) { member in
                    #expect(member.key.lowerBound >= 0 && member.key.upperBound <= bytes.count && member.value.upperBound <= bytes.count)
                    #expect(!member.value.isEmpty)
                }
            }
        }
    }

    /// The scan the filters run notes the members of each top-level member's object (`NestedMembers`),
    /// as `RecordMembers` walks that object; a line it cannot note whole it says so of.
    @Test("the scan notes the members one level down, or says it did not note them all")
    func nestedMembers() {
        func noted(_ document: String, capacity: Int = 8) -> (members: [String], complete: Bool)? {
            let room = UnsafeMutablePointer<JSONScanner.Member>.allocate(capacity: capacity)
            defer { room.deallocate() }
            var nested = NestedMembers(members: room, capacity: capacity)
            let bytes = Array(document.utf8)
            let valid: Bool = bytes.withUnsafeBytes { raw in
                withUnsafeMutablePointer(to: &nested) { pointer in JSONScanner.scanObject(raw, nested: pointer) { _ in } != nil }
            }
            guard valid else { return nil }
            var members: [String] = []
            for member in UnsafeBufferPointer(start: nested.members, count: nested.count) {
                members.append(String(decoding: bytes[member.key], as: UTF8.self) + "=" + String(decoding: bytes[member.value], as: UTF8.self))
            }
            return (members, nested.isComplete)
        }
        let document = #"{"a":1,"u":{"id":7,"n":"x","o":{"deep":1},"l":[{"in":2}]},"e":{},"v":{"k":"w"}}"#
        #expect(noted(document)?.members == [#"id=7"#, #"n="x""#, #"o={"deep":1}"#, #"l=[{"in":2}]"#, #"k="w""#])
        #expect(noted(document)?.complete == true)
        #expect(noted(document, capacity: 2)?.complete == false, "more than its room")
        #expect(noted(#"{"u":{"n":"\u0078"}}"#)?.complete == false, "a line with a backslash goes to the byte by byte walk")
        #expect(noted(#"{"u":{"n":1,}}"#) == nil)
    }

    /// The SIMD walk classifies 64 bytes at a time, carrying "inside a string" and "inside a number"
    /// from block to block: each document is shifted by 0 to 130 leading spaces so that every byte
    /// of it falls on every block boundary, and both walks must give the same verdict and members.
    @Test("the SIMD walk agrees with the byte by byte one wherever the 64-byte blocks cut a line")
    func blockBoundaries() {
        let long = String(repeating: "x", count: 70)
        let documents = [
            #"{}"#, #"{"a":1}"#, #"{"a":[1,2,{"b":null}],"c":"d e"} "#, #"{"a":-0.5e+10,"b":12345678901234567890}"#,
            "{\"\(long)\":\"\(long)\",\"n\":[\(long.map { _ in "7" }.joined())]}", #"{"a":{"b":{"c":{}}},"d":[[],[{}]]}"#,
            #"{"a":true,"b":false,"c":null}"#, #"{"a":01}"#, #"{"a":1,}"#, #"{"a":tru}"#, #"{"a":truex}"#, #"{"a" 1}"#,
            #"{"a":1}}"#, #"{"a":"b"#, #"{"a":1.}"#, #"{"a":[}"#, #"{"a":1 2}"#, #"{"a":"b"c}"#, #"{"a":1}x"#, #"x{"a":1}"#,
            #"{"a":-}"#, #"{"a":1e}"#, #"{"a":[1,]}"#, #"{"a"}"#, #"{:1}"#, #"{"a":1"b":2}"#, #"{"a":nul}"#, #"{"a":{"b":1]}"#,
            #"{"{":"}","[":"]",":":","}"#, #"{"a":"}"}  "#, "{\"a\":\"\(long)\"",
            // What the walk takes in groups where a block holds them: a key's closing quote, the colon
            // and the value's first byte; a separator and the next key's opening quote.
            #"{"a","b"}"#, #"{"x":{"a","b"}}"#, #"{"a":"b" "c":"d"}"#, #"{"x":{"a":1 "c":2}}"#, #"{"a":"b":"c":"d"}"#,
            #"{"x":{"a":1:"c":2}}"#, #"{"a":1,[1:2}"#, #"{"a":"b",1:2,"c":3}"#, #"{"a":"b","c":"d","e":{"f":"g","h":[1,"i"]}}"#,
            // Numbers of up to eight bytes are read from the block's masks, longer ones byte by byte.
            #"{"a":0,"b":7,"c":10,"d":0.5,"e":10.25,"f":12345678,"g":123456789,"h":9.999999,"i":1.2e5,"j":-1}"#,
            #"{"a":00}"#, #"{"a":00.5}"#, #"{"a":1.2.3}"#, #"{"a":.5}"#, #"{"a":5.}"#, #"{"a":1a}"#, #"{"a":0x1}"#, #"{"a":1.5e}"#,
            #"{"a":[1,22,333,4444,55555,666666,7777777,88888888,999999999]}"#, #"{"a":[0.1,01.1,1.01,1.0.1]}"#,
            // Longer than the 512 bytes the first stage classifies in one call: strings, numbers and
            // containers across the chunks' boundary.
            "{\"a\":\"\(String(repeating: "y", count: 1000))\",\"b\":[1,2,{\"c\":true}],\"d\":12.5}",
            "{" + (0..<150).map { "\"k\($0)\":\($0 % 3 == 0 ? "\"v\($0)\"" : "\($0)")" }.joined(separator: ",") + "}",
            "{" + (0..<150).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"x\":01}",
        ]
        for document in documents {
            for shift in 0...130 {
                let line = Array((String(repeating: " ", count: shift) + document).utf8)
                line.withUnsafeBytes { bytes in
                    #expect(JSONScanner.isPlain(bytes))
                    var fast: [Range<Int>] = []
                    var slow: [Range<Int>] = []
                    let fastObject = JSONScanner.scanObject(bytes) { fast += [$0.key, $0.value] }
                    let slowObject = JSONScanner.scanObjectBytewise(bytes) { slow += [$0.key, $0.value] }
                    #expect(fastObject?.range == slowObject?.range && fastObject?.memberCount == slowObject?.memberCount, "\(shift): \(document)")
                    if slowObject != nil {
                        #expect(fast == slow, "\(shift): \(document)")
                        // A valid line read again as our own record: the values skipped, the same members.
                        var trusted: [Range<Int>] = []
                        let trustedObject = JSONScanner.scanTrustedObject(bytes) { trusted += [$0.key, $0.value] }
                        #expect(trustedObject?.range == slowObject?.range && trusted == slow, "trusted, \(shift): \(document)")
                        var walked: [Range<Int>] = []
                        #expect(RecordMembers.forEach(bytes) { walked += [$0.key, $0.value] })
                        #expect(walked == slow, "walked, \(shift): \(document)")
                    }
                }
            }
        }
        // A line over one chunk that is not plain after its first 512 bytes goes to the byte by byte walk
        // before any member is reported: each member once.
        for tail in ["\\n", "\u{7}", "é"] {
            let line = Array(("{\"a\":\"\(String(repeating: "y", count: 1100))\",\"b\":\"\(tail)\",\"c\":1}").utf8)
            line.withUnsafeBytes { bytes in
                var keys: [Range<Int>] = []
                let object = JSONScanner.scanObject(bytes) { keys.append($0.key) }
                #expect(!JSONScanner.isPlain(bytes))
                // A raw control byte in a string is invalid; an escape and UTF-8 are not.
                #expect((object != nil) == (tail != "\u{7}"), "\(tail)")
                if object != nil { #expect(keys.count == 3, "\(tail)") }
                #expect(Set(keys.map(\.lowerBound)).count == keys.count, "\(tail)")
            }
        }
        // 512 levels are allowed, 513 are not, in both walks.
        for depth in [511, 512, 513] {
            let line = Array(("{\"a\":" + String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1) + "}").utf8)
            line.withUnsafeBytes { bytes in
                #expect((JSONScanner.scanObject(bytes) { _ in } != nil) == (depth <= 512))
                #expect((JSONScanner.scanObjectBytewise(bytes) { _ in } != nil) == (depth <= 512))
            }
        }
    }

    @Test("the first stage's AVX2 and baseline builds classify every block alike")
    func firstStageBuilds() {
        // Lines of JSON's own characters, 0 to 2,200 bytes (over several chunks of blocks), some with
        // a byte that is not plain somewhere.
        var random = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]:,"  "ab0123456789.-+eEtruefalsnull{"k":[1,"v"]}"#.utf8)
        for round in 0..<600 {
            var line = (0..<Int.random(in: 0...2200, using: &random)).map { _ in alphabet.randomElement(using: &random) ?? 0x20 }
            if round % 3 == 0, !line.isEmpty { line[Int.random(in: 0..<line.count, using: &random)] = [0x5C, 0x09, 0xC3].randomElement() ?? 0 }
            line.withUnsafeBytes { bytes in
                let difference = FirstStageBuilds.difference(bytes)
                #expect(difference == nil, "\(difference ?? ""): \(String(decoding: bytes, as: UTF8.self))")
            }
        }
    }

    @Test("agrees with Foundation's parser on 20,000 generated records")
    func generated() {
        var generator = RecordGenerator(seed: 3)
        for _ in 0..<20_000 {
            let line = generator.line()
            var members = 0
            let object = Array(line.utf8).withUnsafeBytes { JSONScanner.scanObject($0) { _ in members += 1 } }
            let reference = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            #expect(object != nil && members == reference?.count)
        }
    }
}
