import Foundation
import Testing

@testable import Configuration
@testable import Filters
@testable import Processing
@testable import Records
@testable import Sinks

/// The filter chain on records in memory, through the enricher as the pipeline runs it: every type, the
/// matching rules of the contract, and the corners a process test cannot aim at.
@Suite("Filters (unit)")
struct FilterUnitTests {
    /// The enricher with these filters (a JSON list) and a `host` field; each line's output without its newline.
    final class Harness {
        let enricher: Enricher
        let chain: FilterChain

        init(_ filters: String, mode: EnrichMode = .merge, format: InputFormat = .json, host: Bool = true) throws {
            let configs = try FilterSchema.parseList(try JSONParser.parse(filters), key: "filters")
            chain = try FilterChain(configs)
            let fields = host ? [EnrichmentField(key: "host", value: Array("\"h\"".utf8))] : []
            enricher = Enricher(mode: mode, format: format, fields: fields, filters: chain)
        }

        func run(_ lines: [String], partial: Bool = false) -> [String] {
            var batch = RecordBatch()
            enricher.beginBatch()
            for line in lines { Array(line.utf8).withUnsafeBytes { _ = enricher.encode(.complete($0), partial: partial, into: &batch) } }
            return String(decoding: batch.bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        }

        func one(_ line: String) -> String? { run([line]).first }
    }

    @Test("drop and keep: strings by text, numbers by value, literals; missing fields never match")
    func dropAndKeep() throws {
        let drop = try Harness(#"[{"type":"drop","field":"level","equals":["debug","trace"]}]"#, host: false)
        #expect(
            drop.run([#"{"level":"debug"}"#, #"{"level":"info"}"#, #"{"level":"de\u0062ug"}"#, #"{"x":1}"#, #"{"level":"DEBUG"}"#])
                == [#"{"level":"info"}"#, #"{"x":1}"#, #"{"level":"DEBUG"}"#])
        // Lengths: the empty string, and two of 63 bytes or more (one bit of the length map for both).
        let long = String(repeating: "x", count: 70)
        let lengths = try Harness(#"[{"type":"drop","field":"m","equals":["", "\#(long)", "\#(long)yy"]}]"#, host: false)
        #expect(
            lengths.run([
                #"{"m":""}"#, #"{"m":"\#(long)"}"#, #"{"m":"\#(long)y"}"#, #"{"m":"\#(long)yy"}"#, #"{"m":"\u0078\#(long.dropFirst())"}"#,
                #"{"m":"x"}"#,
            ])
                == [#"{"m":"\#(long)y"}"#, #"{"m":"x"}"#])
        let numbers = try Harness(#"[{"type":"drop","field":"status","equals":[500, 0.25, true, null]}]"#, host: false)
        #expect(
            numbers.run([
                #"{"status":500}"#, #"{"status":5e2}"#, #"{"status":500.0}"#, #"{"status":5.00E+2}"#, #"{"status":"500"}"#,
                #"{"status":501}"#, #"{"status":25e-2}"#, #"{"status":true}"#, #"{"status":null}"#, #"{"status":false}"#,
                #"{"status":-500}"#, #"{"status":[500]}"#,
            ]) == [#"{"status":"500"}"#, #"{"status":501}"#, #"{"status":false}"#, #"{"status":-500}"#, #"{"status":[500]}"#])
        let keep = try Harness(#"[{"type":"keep","field":"status","matches":"^5[0-9][0-9]$"}]"#, host: false)
        #expect(
            keep.run([#"{"status":503}"#, #"{"status":"504"}"#, #"{"status":200}"#, #"{"status":5e2}"#, #"{"other":500}"#, #"{"status":{"a":500}}"#])
                == [#"{"status":503}"#, #"{"status":"504"}"#])
        #expect(keep.chain.takeDropped() == [4])
        #expect(keep.chain.takeDropped() == nil, "taken once")
    }

    @Test("dotted paths: nested objects, a key with dots first, duplicates (the last counts), escaped keys")
    func paths() throws {
        let drop = try Harness(#"[{"type":"drop","field":"http.request.method","equals":["HEAD"]}]"#, host: false)
        #expect(
            drop.run([
                #"{"http":{"request":{"method":"HEAD"}}}"#, #"{"http":{"request":{"method":"GET"}}}"#, #"{"http.request":{"method":"HEAD"}}"#,
                #"{"http.request.method":"GET","http":{"request":{"method":"HEAD"}}}"#, #"{"http":{"request":"HEAD"}}"#,
                #"{"http":{"request":{"method":"HEAD"}},"http":{"request":{"method":"GET"}}}"#, #"{"ht\u0074p":{"request":{"method":"HEAD"}}}"#,
            ]) == [
                #"{"http":{"request":{"method":"GET"}}}"#, #"{"http.request.method":"GET","http":{"request":{"method":"HEAD"}}}"#,
                #"{"http":{"request":"HEAD"}}"#, #"{"http":{"request":{"method":"HEAD"}},"http":{"request":{"method":"GET"}}}"#,
            ])
    }

    @Test("remove: top-level keys in one pass, nested paths, every duplicate, nothing copied when absent")
    func remove() throws {
        let remove = try Harness(#"[{"type":"remove","fields":["password","request.headers.authorization","a.b"]}]"#, host: false)
        #expect(
            remove.one(#"{"user":"u","password":"p","request":{"headers":{"authorization":"Bearer x","host":"h"}},"n":1}"#)
                == #"{"user":"u","request":{"headers":{"host":"h"}},"n":1}"#)
        #expect(remove.one(#"{"password":1,"password":2}"#) == "{}")
        #expect(remove.one(#"{ "kept" : [1, 2] ,"x":{} }"#) == #"{ "kept" : [1, 2] ,"x":{} }"#, "untouched records keep their bytes")
        #expect(remove.one(#"{"a":{"b":1,"c":2},"a.b":3}"#) == #"{"a":{"b":1,"c":2}}"#, "the dotted key first")
        #expect(remove.one(#"{"a":{"b":1,"c":2}}"#) == #"{"a":{"c":2}}"#)
        #expect(remove.one(#"{"a":{"x":0, "b":1 ,"c":2}}"#) == #"{"a":{"x":0 ,"c":2}}"#, "cut with the separator before it")
        #expect(remove.one(#"{"a":{ "b":1 , "c":2 }}"#) == #"{"a":{ "c":2 }}"#, "the first: cut with the separator after it")
        #expect(remove.one(#"{"a":{ "b" : [1] }}"#) == #"{"a":{  }}"#, "the only one")
        #expect(remove.one(#"{"a":{"b":{"b":1,"c":2}},"n":1}"#) == #"{"a":{},"n":1}"#, "a.b is the whole inner object")
        // The plan's changes come in the order of the fields named, not of the members: written in order.
        let reversed = try Harness(#"[{"type":"remove","fields":["z","b","a.c"]}]"#, host: false)
        #expect(reversed.one(#"{"a":{"c":1,"d":2},"b":2,"m":3,"z":4}"#) == #"{"a":{"d":2},"m":3}"#)
        #expect(reversed.one(#"{"z":4,"m":3,"b":2,"a":{"d":2,"c":1}}"#) == #"{"m":3,"a":{"d":2}}"#)
    }

    @Test("rename: onto an existing key (overwritten in place), into missing objects, past a value that is not an object")
    func rename() throws {
        let rename = try Harness(#"[{"type":"rename","from":"msg","to":"message"}]"#, host: false)
        #expect(rename.one(#"{"msg":"hi","n":1}"#) == #"{"n":1,"message":"hi"}"#)
        #expect(rename.one(#"{"message":"old","msg":{"a":[1]}}"#) == #"{"message":{"a":[1]}}"#)
        #expect(rename.one(#"{"n":1}"#) == #"{"n":1}"#, "missing: nothing happens")
        let nested = try Harness(#"[{"type":"rename","from":"user.id","to":"meta.user.id"}]"#, host: false)
        #expect(nested.one(#"{"user":{"id":7,"name":"a"}}"#) == #"{"user":{"name":"a"},"meta":{"user":{"id":7}}}"#)
        #expect(nested.one(#"{"user":{"id":7},"meta":{"x":1}}"#) == #"{"user":{},"meta":{"x":1,"user":{"id":7}}}"#)
        #expect(nested.one(#"{"user":{"id":7},"meta":{ }}"#) == #"{"user":{},"meta":{ "user":{"id":7}}}"#)
        #expect(nested.one(#"{"user":{"id":7},"meta":"text"}"#) == #"{"user":{},"meta":"text","meta.user.id":7}"#)
        let up = try Harness(#"[{"type":"rename","from":"a","to":"a.b"}]"#, host: false)
        #expect(up.one(#"{"a":1}"#) == #"{"a":{"b":1}}"#)
    }

    @Test("redact: a pattern in named fields, in objects and arrays, on escapes and non-ASCII text; whole values without a pattern")
    func redact() throws {
        let email = try Harness(#"[{"type":"redact","fields":["email","user"],"pattern":"[^@\"]+@","replacement":"***@"}]"#, host: false)
        #expect(email.one(#"{"email":"john.doe@example.com","n":1}"#) == #"{"email":"***@example.com","n":1}"#)
        #expect(email.one(#"{"email":"a@b.c, d@e.f"}"#) == #"{"email":"***@***@e.f"}"#, "a@, then b.c, d@: the pattern's own reach")
        let words = try Harness(#"[{"type":"redact","fields":["email"],"pattern":"[\\w.]+@","replacement":"***@"}]"#, host: false)
        #expect(words.one(#"{"email":"a@b.c, d@e.f"}"#) == #"{"email":"***@b.c, ***@e.f"}"#)
        #expect(email.one(#"{"email":"\u00e9l\u00e8ve@\u00e9cole.fr"}"#) == #"{"email":"***@école.fr"}"#)
        #expect(email.one(#"{"email":"élève@école.fr"}"#) == #"{"email":"***@école.fr"}"#)
        #expect(email.one(#"{"email":"line\nbreak@x"}"#) == #"{"email":"***@x"}"#)
        #expect(email.one(#"{"email":"q\"uote@x"}"#) == #"{"email":"q\"***@x"}"#, "the pattern sees the text, quote included")
        #expect(email.one(#"{"user":{"mail":"x@y","ids":["p@q",3]},"email":5}"#) == #"{"user":{"mail":"***@y","ids":["***@q",3]},"email":5}"#)
        #expect(email.one(#"{"email":"nobody"}"#) == #"{"email":"nobody"}"#)
        #expect(
            email.one("{\"email\":\"ab@x\u{7F}y\"}") == "{\"email\":\"***@x\u{7F}y\"}",
            "a plain line's DEL stays as it was around a replacement that needs no escaping, as in values not redacted")
        #expect(
            email.one(#"{"user":{"a":{"k":"none"},"b":["x@y"]},"email":"z@w"}"#) == #"{"user":{"a":{"k":"none"},"b":["***@y"]},"email":"***@w"}"#,
            "an object nothing in changed is written as it was, beside one that changed")
        // A replacement waiting to be written, then an edit that writes it first.
        let thenRename = try Harness(
            #"[{"type":"redact","fields":["email"],"pattern":"[^@]+@","replacement":"***@"},{"type":"rename","from":"email","to":"mail"}]"#,
            host: false)
        #expect(thenRename.run([#"{"email":"a@b","n":1}"#, #"{"n":2,"email":"c@d"}"#]) == [#"{"n":1,"mail":"***@b"}"#, #"{"n":2,"mail":"***@d"}"#])
        let empty = try Harness(#"[{"type":"redact","fields":["m"],"pattern":"x*","replacement":"-"}]"#, host: false)
        #expect(
            empty.one(#"{"m":"abxd"}"#) == #"{"m":"-a-b--d-"}"#,
            "empty matches as Perl and Python's re.sub: between characters, not twice at one place")
        #expect(empty.one(#"{"m":"éx"}"#) == #"{"m":"-é--"}"#, "an empty match never splits a UTF-8 character")
        #expect(empty.one(#"{"m":""}"#) == #"{"m":"-"}"#)
        // A pattern that starts with ^ (one branch) matches once at most; with a branch or \G, on.
        let start = try Harness(
            #"[{"type":"redact","fields":["a"],"pattern":"^[^@]+@","replacement":"-@"},{"type":"redact","fields":["b"],"pattern":"^","replacement":"-"},"#
                + #"{"type":"redact","fields":["c"],"pattern":"^x|y","replacement":"-"},{"type":"redact","fields":["d"],"pattern":"\\Gx","replacement":"-"}]"#,
            host: false)
        #expect(start.one(#"{"a":"u@v@w","b":"bb","c":"xyxy","d":"xxax"}"#) == #"{"a":"-@v@w","b":"-bb","c":"--x-","d":"--ax"}"#)
        let whole = try Harness(#"[{"type":"redact","fields":["password","token.value"]}]"#, host: false)
        #expect(whole.one(#"{"password":"p","token":{"value":[1,2],"kind":"k"}}"#) == #"{"password":"***","token":{"value":"***","kind":"k"}}"#)
        let afterRemove = try Harness(#"[{"type":"remove","fields":["x"]},{"type":"redact","pattern":"a","replacement":"b"}]"#, host: false)
        #expect(afterRemove.one(#"{"x":"a","m":"a","n":{"k":"a"},"o":1,"p":"c"}"#) == #"{"m":"b","n":{"k":"b"},"o":1,"p":"c"}"#)
        let everywhere = try Harness(#"[{"type":"redact","pattern":"\\d{4}-\\d{4}","replacement":"<n>"}]"#, host: false)
        #expect(
            everywhere.one(#"{"a":"card 1234-5678","b":{"c":["x 0000-1111 y"]},"1234-5678":1}"#)
                == #"{"a":"card <n>","b":{"c":["x <n> y"]},"1234-5678":1}"#, "values only, never keys")
        let escapes = try Harness(#"[{"type":"redact","fields":["m"],"pattern":"\t","replacement":"\"<tab>\\"}]"#, host: false)
        #expect(escapes.one(#"{"m":"a\tb"}"#) == #"{"m":"a\"<tab>\\b"}"#, "the replacement is escaped as JSON")

        // A plain line's value is replaced between its quotes in one append; a line with an escape
        // elsewhere takes the general path: the same value either way, for every kind of pattern.
        for pattern in ["x*", "^[^@]+@", "s*|\\\\K", "[0-9]+", "^x|y", "\\\\Gx", "(?=a)"] {
            let harness = try Harness(#"[{"type":"redact","fields":["m"],"pattern":""# + pattern + #"","replacement":"<->"}]"#, host: false)
            for text in ["", "abxd", "xxax", "u@v@w", "ss12s", "a", "noting"] {
                let plain = harness.one(#"{"m":""# + text + #"","z":"y"}"#)
                let escaped = harness.one(#"{"m":""# + text + #"","z":"\u0079"}"#)?.replacingOccurrences(of: #""\u0079""#, with: #""y""#)
                #expect(plain == escaped, "pattern \(pattern) on \(text)")
            }
        }

        // A plain line (no backslash) read in place, then a value with an escape written by a filter:
        // the condition after it decodes the new value (the record no longer says it is plain).
        let then = try Harness(
            #"[{"type":"redact","fields":["m"],"pattern":"a","replacement":"\\"},{"type":"drop","field":"m","equals":["\\b"]}]"#, host: false)
        // Twice: the second time, the record written anew reuses bytes that were a borrowed line's.
        #expect(then.run([#"{"m":"ab"}"#, #"{"m":"cb"}"#, #"{"m":"ab"}"#]) == [#"{"m":"cb"}"#])
    }

    @Test("duplicated keys: remove, rename and redact take every copy, not only the one a lookup sees")
    func duplicates() throws {
        let remove = try Harness(#"[{"type":"remove","fields":["a","u.p"]}]"#, host: false)
        #expect(remove.one(#"{"a":1,"b":2,"\u0061":3,"u":{"p":1,"q":2,"p":3}}"#) == #"{"b":2,"u":{"q":2}}"#)
        let rename = try Harness(#"[{"type":"rename","from":"y","to":"z"}]"#, host: false)
        #expect(rename.one(#"{"y":1,"z":0,"y":2,"z":9}"#) == #"{"z":2}"#, "the last y's value; no stale y or z left")
        #expect(rename.one(#"{"z":0,"y":2}"#) == #"{"z":2}"#, "overwritten in place")
        let redact = try Harness(#"[{"type":"redact","fields":["password","u.token"]}]"#, host: false)
        #expect(
            redact.one(#"{"password":"a","n":1,"password":"b","u":{"token":"t","tok\u0065n":"s"}}"#)
                == #"{"password":"***","n":1,"password":"***","u":{"token":"***","tok\u0065n":"***"}}"#)
    }

    @Test("sample keeps exactly one in rate, unless-matches pass uncounted; throttle keeps per_second a second")
    func sampleAndThrottle() throws {
        let sample = try Harness(#"[{"type":"sample","rate":10,"unless":{"field":"level","equals":["error"]}}]"#, host: false)
        let lines = (0..<1000).map { #"{"i":\#($0),"level":"\#($0 % 7 == 0 ? "error" : "info")"}"# }
        let kept = sample.run(lines)
        let errors = lines.filter { $0.contains("error") }.count
        #expect(kept.count == errors + (1000 - errors + 9) / 10)
        #expect(sample.chain.takeDropped() == [1000 - kept.count])

        let throttle = try Harness(#"[{"type":"throttle","per_second":3}]"#, host: false)
        var batch = RecordBatch()
        func feed(_ n: Int, at ms: Int64) {
            throttle.chain.nowMs = ms
            for _ in 0..<n { Array(#"{"a":1}"#.utf8).withUnsafeBytes { _ = throttle.enricher.encode(.complete($0), partial: false, into: &batch) } }
        }
        feed(5, at: 10_000)
        feed(5, at: 10_999)
        #expect(batch.count == 3)
        feed(5, at: 11_000)
        #expect(batch.count == 6)
        feed(2, at: 13_500)
        feed(2, at: 13_999)
        feed(2, at: 14_000)
        #expect(batch.count == 11)
    }

    @Test("lines that are not objects are filtered as {message, parse_error}; text lines as {message}; wrap nests only objects")
    func ownRecords() throws {
        let drop = try Harness(
            #"[{"type":"drop","field":"message","matches":"^health"},{"type":"redact","fields":["message"],"pattern":"secret","replacement":"s"}]"#)
        #expect(
            drop.run(["healthcheck ok", "a secret", #"{"message":"health"}"#, "[1,2]"]) == [
                #"{"message":"a s","parse_error":true,"host":"h"}"#, #"{"message":"[1,2]","parse_error":true,"host":"h"}"#,
            ])
        let text = try Harness(#"[{"type":"drop","field":"message","matches":"^DEBUG"}]"#, format: .text)
        #expect(text.run(["DEBUG x", "INFO {\"a\":1}"]) == [#"{"message":"INFO {\"a\":1}","host":"h"}"#])
        let wrap = try Harness(#"[{"type":"remove","fields":["a"]}]"#, mode: .wrap)
        #expect(wrap.run([#"{"a":1,"b":2}"#, "plain"]) == [#"{"raw":{"b":2},"host":"h"}"#, #"{"message":"plain","parse_error":true,"host":"h"}"#])
        let merge = try Harness(#"[{"type":"rename","from":"hostname","to":"host"}]"#)
        #expect(
            merge.run([#"{"hostname":"app-1"}"#, #"{"x":1}"#]) == [#"{"host":"app-1"}"#, #"{"x":1,"host":"h"}"#],
            "a key a filter wrote wins over the enrichment field, as the application's would")
        #expect(merge.run([#"{"x":1}"#], partial: true) == [#"{"x":1,"host":"h","partial":true}"#])
        let empty = try Harness(#"[{"type":"remove","fields":["x"]}]"#)
        #expect(empty.run([#"{"x":1}"#]) == [#"{"host":"h"}"#])
    }

    @Test("lines with bytes that are not UTF-8 are repaired before the filters see them")
    func repair() throws {
        let redact = try Harness(#"[{"type":"redact","fields":["m"],"pattern":"b","replacement":"B"}]"#, host: false)
        var line = Array(#"{"m":"ab"#.utf8)
        line.append(0xFF)
        line += Array(#"c"}"#.utf8)
        var batch = RecordBatch()
        line.withUnsafeBytes { _ = redact.enricher.encode(.complete($0), partial: false, into: &batch) }
        #expect(String(decoding: batch.bytes, as: UTF8.self) == "{\"m\":\"aB\u{FFFD}c\"}\n")
    }

    @Test("bad filter configurations name the filter and the key")
    func badConfigurations() throws {
        func error(_ filters: String) -> String {
            do {
                _ = try FilterSchema.parseList(try JSONParser.parse(filters), key: "filters")
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(error(#"[{"type":"grep"}]"#).contains("filters[0].type: expected one of drop, keep"))
        #expect(error(#"[{"type":"drop","field":"a","equals":["x"],"regex":"y"}]"#).contains("filters[0].regex: unknown key for a drop filter"))
        #expect(error(#"[{"type":"drop","field":"a"}]"#).contains("filters[0].equals: missing"))
        #expect(error(#"[{"type":"drop","field":"a","equals":["x"],"matches":"y"}]"#).contains("both set"))
        #expect(
            error(#"[{"type":"keep","field":"a","matches":"^(5"}]"#).contains(
                "filters[0].matches: the pattern \"^(5\" does not compile: missing closing parenthesis at byte 3"))
        #expect(error(#"[{"type":"drop","field":"a","equals":[[1]]}]"#).contains("filters[0].equals[0]"))
        #expect(error(#"[{"type":"drop","field":"a","equals":[]}]"#).contains("filters[0].equals"))
        #expect(error(#"[{"type":"remove","fields":[]}]"#).contains("filters[0].fields"))
        #expect(error(#"[{"type":"rename","from":"a"}]"#).contains("filters[0].to: missing"))
        #expect(error(#"[{"type":"rename","from":"a","to":"a"}]"#).contains("filters[0].to"))
        #expect(error(#"[{"type":"sample","rate":0}]"#).contains("filters[0].rate"))
        #expect(error(#"[{"type":"sample","rate":2,"unless":{"field":"a","equals":[1],"x":1}}]"#).contains("filters[0].unless.x: unknown key"))
        #expect(error(#"[{"type":"throttle"}]"#).contains("filters[0].per_second"))
        #expect(error(#"[{"type":"redact","pattern":"[a"}]"#).contains("filters[0].pattern"))
        #expect(error(#"[{"type":"remove","fields":["a"],"name":"x"},{"type":"remove","fields":["b"],"name":"x"}]"#).contains("filters[1].name"))
        #expect(error(#"{"type":"drop"}"#).contains("expected an array"))
        #expect(error(#"[{"type":"remove","fields":["a"]},{"type":"sample","rate":3}]"#).isEmpty)
    }

    @Test("members are read into slots kept from line to line: more than before, fewer, spaces before the object")
    func memberSlots() throws {
        let remove = try Harness(#"[{"type":"remove","fields":["b","k39"]}]"#, host: false)
        let wide = "{" + (0..<40).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + "}"
        let wideKept = "{" + (0..<39).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + "}"
        #expect(
            remove.run([#"{"a":1,"b":2}"#, wide, #"  {"b":3,"c":4}"#, #"{"a":1,"b":2,"c":3}"#, wide])
                == [#"{"a":1}"#, wideKept, #"{"c":4}"#, #"{"a":1,"c":3}"#, wideKept])
    }

    /// `load` notes where the filters' keys are as the scanner reports the members (`FilterKeys`); every
    /// answer must be the one a search of the members gives.
    @Test("the key index: more keys than it holds, keys that share a slot, an empty key, duplicates, escapes")
    func keyIndex() throws {
        // Ten keys: the last two are past the index's eight and are searched for.
        let keys = (0..<10).map { "k\($0)" }
        let many = try Harness(#"[{"type":"remove","fields":[\#(keys.map { "\"\($0)\"" }.joined(separator: ","))]}]"#, host: false)
        #expect(many.one(#"{"k9":1,"a":2,"k0":3,"k8":4,"k3":5}"#) == #"{"a":2}"#)
        #expect(many.one(#"{"k8":1,"k8":2,"b":3}"#) == #"{"b":3}"#, "a duplicate past the index")
        // "ab" and "ac" have one length and first byte: one slot, both compared.
        let shared = try Harness(#"[{"type":"drop","field":"ac","equals":[1]},{"type":"remove","fields":["ab"]}]"#, host: false)
        #expect(
            shared.run([#"{"ab":1,"ac":1}"#, #"{"ab":1,"ac":2}"#, #"{"ac":2,"ab":1,"ab":3}"#, #"{"ad":1,"ac":3}"#])
                == [#"{"ac":2}"#, #"{"ac":2}"#, #"{"ad":1,"ac":3}"#])
        // The last of duplicates counts; an escaped key turns the index off for its line; an empty key
        // is no field's.
        let drop = try Harness(#"[{"type":"drop","field":"level","equals":["debug"]}]"#, host: false)
        #expect(
            drop.run([
                #"{"level":"debug","level":"info"}"#, #"{"level":"info","level":"debug"}"#, #"{"lev\u0065l":"debug"}"#, #"{"":"debug"}"#,
            ]) == [#"{"level":"debug","level":"info"}"#, #"{"":"debug"}"#])
        let redact = try Harness(#"[{"type":"redact","fields":["e","u.n"]}]"#, host: false)
        #expect(redact.one(#"{"e":"x","u":{"n":"y"},"e":"z"}"#) == #"{"e":"***","u":{"n":"***"},"e":"***"}"#)
    }

    /// A field one object down is found among the members the scan noted (a line that starts with its
    /// object, no backslash in it), else by a walk of its object: the same answers either way.
    @Test("nested fields: from the scan's notes or from a walk, the same records")
    func nestedFields() throws {
        let remove = try Harness(#"[{"type":"remove","fields":["user.name"]},{"type":"redact","fields":["user.id"]}]"#, host: false)
        let lines = [
            #"{"user":{"id":1,"name":"a"},"n":1}"#, #"{"n":0,"user":{"name":"a"},"x":{"name":"b"}}"#, #"{"user":{"name":"a","name":"b","k":1}}"#,
            #"{"user":{"id":1},"user":{"name":"x","k":2}}"#, #"{"user":{},"name":1}"#, #"{"user":{"k":{"name":1},"name":[1]}}"#,
        ]
        let expected = [
            #"{"user":{"id":"***"},"n":1}"#, #"{"n":0,"user":{},"x":{"name":"b"}}"#, #"{"user":{"k":1}}"#, #"{"user":{"id":1},"user":{"k":2}}"#,
            #"{"user":{},"name":1}"#, #"{"user":{"k":{"name":1}}}"#,
        ]
        #expect(remove.run(lines) == expected)
        // A space before the object, or a backslash in the line: the walk.
        #expect(remove.run(lines.map { " " + $0 }) == expected, "the object, without the space")
        #expect(remove.run(lines.map { $0.dropLast() + #","e":"\u0041"}"# }) == expected.map { $0.dropLast() + #","e":"\u0041"}"# })
    }

    @Test("a record's own key wins over a field's after the filters: kept, escaped, renamed to it, removed")
    func fieldCollisions() throws {
        let remove = try Harness(#"[{"type":"remove","fields":["x"]}]"#)
        #expect(
            remove.run([#"{"host":"app","x":1}"#, #"{"h\u006fst":"app"}"#, #"{"x":1,"y":2}"#, #"{"partial":false}"#], partial: true)
                == [
                    #"{"host":"app","partial":true}"#, #"{"h\u006fst":"app","partial":true}"#, #"{"y":2,"host":"h","partial":true}"#,
                    #"{"partial":false,"host":"h"}"#,
                ])
        let dropHost = try Harness(#"[{"type":"remove","fields":["host"]}]"#)
        #expect(dropHost.run([#"{"host":"app","y":1}"#, #"{"y":1}"#]) == [#"{"y":1,"host":"h"}"#, #"{"y":1,"host":"h"}"#])
        let rename = try Harness(#"[{"type":"redact","fields":["m"],"pattern":"a","replacement":"b"},{"type":"rename","from":"a","to":"host"}]"#)
        #expect(rename.run([#"{"a":"v","m":"a"}"#, #"{"m":"a"}"#]) == [#"{"m":"b","host":"v"}"#, #"{"m":"b","host":"h"}"#])
    }

    @Test("numbers compare by value, whatever their spelling")
    func decimalNumbers() {
        let same = [["500", "5e2", "500.0", "5.00E+2", "50000e-2", "0.5e3"], ["0", "-0", "0.0", "0e10"], ["-1.5", "-15e-1", "-0.15E1"]]
        for group in same {
            for text in group { #expect(DecimalNumber(text) == DecimalNumber(group[0]), "\(text)") }
        }
        #expect(DecimalNumber("500") != DecimalNumber("501"))
        #expect(DecimalNumber("1e2") != DecimalNumber("-1e2"))
        #expect(DecimalNumber("12345678901234567891") != DecimalNumber("12345678901234567890"), "no rounding through a Double")
        #expect(DecimalNumber("1e999999999999999999") != nil)
    }
}
