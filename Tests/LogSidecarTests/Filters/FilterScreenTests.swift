import Testing

@testable import Configuration
@testable import Filters
@testable import Processing
@testable import Records

/// The screen (`FilterScreen`: drop, keep, sample and throttle decided, remove and redact made, on the
/// enricher's own scan) against the chain it stands for: the same records out, the same outcomes, the same drops counted,
/// for every line.
@Suite("Filter screen (differential)")
struct FilterScreenTests {
    /// Read-only chains: one key, keys shared between filters, an enrichment field's key, numbers and
    /// literals, a pattern, the empty string; then chains that edit: the benchmark's set (a removal of a
    /// top-level key and of a nested one, a redaction by a pattern), a redaction of the whole value, a
    /// replacement that needs escaping, a removal of an enrichment field's key (which the screen leaves
    /// to the chain in merge mode), edits before the conditions and after them.
    static let chains = [
        #"[{"type":"drop","field":"level","equals":["debug","trace"]}]"#,
        #"[{"type":"keep","field":"status","matches":"^5"}]"#,
        #"[{"type":"drop","field":"level","equals":["debug"]},{"type":"keep","field":"n","equals":[1,2.5,true,null,"x"]},"#
            + #"{"type":"drop","field":"level","matches":"^t"}]"#,
        #"[{"type":"drop","field":"host","equals":["h"]},{"type":"keep","field":"m","equals":["", "a"]}]"#,
        #"[{"type":"drop","field":"partial","equals":[true]},{"type":"drop","field":"raw","equals":[1]}]"#,
        #"[{"type":"sample","rate":3,"unless":{"field":"level","equals":["error"]}},{"type":"drop","field":"level","equals":["debug"]}]"#,
        #"[{"type":"drop","field":"n","equals":[1]},{"type":"throttle","per_second":7,"unless":{"field":"status","matches":"^5"}},"#
            + #"{"type":"sample","rate":2}]"#,
        #"[{"type":"drop","field":"level","equals":["debug","trace"]},{"type":"remove","fields":["path","user.name"]},"#
            + #"{"type":"redact","fields":["email"],"pattern":"^[^@]+@","replacement":"***@"}]"#,
        #"[{"type":"remove","fields":["a","b.c"]},{"type":"drop","field":"level","equals":["debug"]},{"type":"redact","fields":["m"]}]"#,
        #"[{"type":"redact","fields":["email","level"],"pattern":"[aeiou@]","replacement":"\"\\"},{"type":"keep","field":"n","equals":[1]}]"#,
        #"[{"type":"remove","fields":["host","raw","partial"]},{"type":"sample","rate":2,"unless":{"field":"level","equals":["error"]}}]"#,
        #"[{"type":"redact","fields":["path"],"replacement":"-"},{"type":"remove","fields":["user.name","m"]},"#
            + #"{"type":"throttle","per_second":3}]"#,
    ]

    /// Plain lines and every kind the screen leaves to the chain: escapes, escaped keys, non-ASCII,
    /// invalid JSON, other values than objects, duplicates, collisions with the fields.
    static let lines: [String] = {
        var lines = [
            #"{"level":"debug","msg":"a"}"#, #"{"level":"info","msg":"b"}"#, #"{"msg":"no level"}"#, #"{"level":"trace"}"#,
            #"{"level":"info","level":"debug"}"#, #"{"level":"debug","level":"info"}"#, #"{"level":{"a":"debug"}}"#,
            #"{"level":["debug"]}"#, #"{"level":"de\u0062ug"}"#, #"{"le\u0076el":"debug"}"#, #"{"level":"débug"}"#,
            #"{"level":"debug""#, #"[{"level":"debug"}]"#, #""debug""#, "debug", "{}", #"  {"level":"debug"}  "#,
            "{\"level\":\"debug\"}\r", #"{"status":503}"#, #"{"status":"504"}"#, #"{"status":200}"#, #"{"status":5e2}"#,
            #"{"n":1}"#, #"{"n":1.0}"#, #"{"n":10e-1}"#, #"{"n":2.50}"#, #"{"n":true}"#, #"{"n":null}"#, #"{"n":"x"}"#, #"{"n":false}"#,
            #"{"n":"1"}"#, #"{"host":"h","msg":"x"}"#, #"{"host":"mine","level":"info"}"#, #"{"m":""}"#, #"{"m":"a","m":"b"}"#,
            #"{"partial":true}"#, #"{"partial":false,"raw":1}"#, #"{"raw":1}"#, "{\"level\":\"a\u{7F}\"}", "{\"level\":\"info\",\"tab\":\"a\tb\"}",
            #"{"":"debug","level":"info"}"#, #"{"level":"error","n":1}"#, #"{"level":"error","status":503}"#, #"{"level":"err\u006fr"}"#,
            #"{"level" : "debug" , "x" : [ 1 , { "level" : "info" } ] }"#,
        ]
        // For the edits: members first, last, alone, between spaces; duplicates at the top level and in the
        // nested object; a nested path that is itself a key; values of every kind.
        lines += [
            #"{"ts":"t","level":"info","user":{"id":1,"name":"u"},"path":"/p","status":200,"email":"a@b.c"}"#,
            #"{"level":"debug","user":{"id":1,"name":"u"},"path":"/p","email":"a@b.c"}"#, #"{"path":"/x"}"#, #"{"path":"/x","a":1}"#,
            #"{"a":1,"path":"/x"}"#, #"{ "path" : "/x" , "a" : 1 }"#, #"{ "a" : 1 , "path" : "/x" }"#, #"{ "a":1 ,"path":"x", "b":2 }"#,
            #"{"a":1,"path":"x","email":"p@q","b":2,"user":{"name":1}}"#, #"{"path":1,"path":2}"#, #"{"user":{"name":1,"name":2}}"#,
            #"{"user":{"name":1},"user":{"id":2}}"#, #"{"user":{"id":2},"user":{"name":1}}"#, #"{"user":"x"}"#, #"{"user":{}}"#,
            #"{"user":{"name":"n"}}"#, #"{"user":{ "id" : 1 , "name" : "n" } , "z" : 0}"#, #"{"user":{"name":"n", "id":1}}"#,
            #"{"user":{ "name" : "n" }}"#, #"{"user.name":"top","user":{"name":"n"}}"#, #"{"user.name":1,"user.name":2}"#,
            #"{"user":[{"name":1}]}"#, #"{"email":"x@y"}"#, #"{"email":"nomatch"}"#, #"{"email":5}"#,
            #"{"email":{"a":"x@y","b":["z@w",1]}}"#, #"{"email":"x@y","email":"z@w"}"#, #"{"email":null}"#, #"{"b":{"c":1}}"#,
            #"{"b":{"c":1,"d":2},"a":0,"m":"secret","n":1}"#, #"{"a":0}"#, #"{"m":1,"a":2,"b":{"d":{"c":1},"c":[]}}"#,
            #"{"path":"\u0041","a":1}"#, #"{"a":{"b":1},"host":"h","raw":1,"partial":true,"level":"error"}"#,
            #"{"level":"warn","email":"eve@example.com","n":1}"#,
            #"{"user":{"id":"name","x":{"name":1},"name":2}}"#, #"{"user":{"a":[1,{"name":"x"}],"name":true, "b":-1.5e3 }}"#,
            #"{"b.c":1,"b":{"c":2}}"#, #"{"path":"p","level":"debug"}"#,
            // Spaces on either side of a changed member's comma and colon: its key then is not copied
            // with the members before it.
            #"{"a":1 ,"user":{"id":1,"name":2},"b":2}"#, #"{"a":1, "user":{"name":2,"id":1}}"#, #"{"a":1,"user" :{"name":2,"id":1}}"#,
            #"{"a":1,"user": {"name":2,"id":1}}"#, #"{"a":1 ,"email":"x@y"}"#, #"{"a":1,"email" : "x@y","b":2}"#,
            #"{"email": "x@y"}"#, #"{ "user":{"name":1},"a":1 , "email":"x@y" }"#,
        ]
        lines.append(#"{"pad":""# + String(repeating: "p", count: 600) + #"","path":"/x","user":{"name":"n"},"email":"x@y"}"#)
        // More members that may be an enrichment field's (four bytes from an h, as `host`) than the
        // screen's scan keeps, `host` last: the chain's.
        lines.append("{" + (100..<120).map { #""h\#($0)":1"# }.joined(separator: ",") + #","host":"mine","path":1}"#)
        // More members one level down than the scan has room for at first (64): the chain's, then
        // the screen's with more room.
        let wide = "{" + (0..<70).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + #","name":"n"}"#
        lines += [#"{"a":1,"user":"# + wide + #","email":"x@y"}"#, #"{"user":"# + wide + "}"]
        // Past one chunk of the SIMD walk (512 bytes), with the key at its end.
        lines.append(#"{"pad":""# + String(repeating: "p", count: 600) + #"","level":"debug"}"#)
        lines.append(#"{"pad":""# + String(repeating: "p", count: 600) + #"","level":"info","n":1}"#)
        return lines
    }()

    /// The enricher over `chain`, with the screen or without it.
    static func enricher(_ chain: String, screening: Bool, mode: EnrichMode, host: Bool) throws -> (Enricher, FilterChain) {
        let filters = try FilterChain(FilterSchema.parseList(try JSONParser.parse(chain), key: "filters"), screening: screening)
        let fields = host ? [EnrichmentField(key: "host", value: Array("\"h\"".utf8))] : []
        return (Enricher(mode: mode, fields: fields, filters: filters), filters)
    }

    @Test("every chain, both modes, with and without a colliding field, partial or not: the same output as the chain's")
    func sameAsTheChain() throws {
        for chain in Self.chains {
            for mode in [EnrichMode.merge, .wrap] {
                for host in [true, false] {
                    for partial in [false, true] {
                        let (screened, screenedChain) = try Self.enricher(chain, screening: true, mode: mode, host: host)
                        let (plain, plainChain) = try Self.enricher(chain, screening: false, mode: mode, host: host)
                        #expect(screenedChain.screen != nil && plainChain.screen == nil)
                        // A removal of a field's key is the chain's in merge mode.
                        #expect((screened.screen == nil) == (mode == .merge && chain.contains(#""fields":["host""#)), "\(chain)")
                        var screenedBatch = RecordBatch()
                        var plainBatch = RecordBatch()
                        screened.beginBatch()
                        plain.beginBatch()
                        // One clock for both, so that a throttle's windows are the same.
                        (screenedChain.nowMs, plainChain.nowMs) = (1_000, 1_000)
                        for line in Self.lines {
                            let outcomes = Array(line.utf8).withUnsafeBytes { bytes in
                                (
                                    screened.encode(.complete(bytes), partial: partial, into: &screenedBatch),
                                    plain.encode(.complete(bytes), partial: partial, into: &plainBatch)
                                )
                            }
                            #expect(outcomes.0 == outcomes.1, "\(chain) \(mode) \(line)")
                        }
                        #expect(
                            String(decoding: screenedBatch.bytes, as: UTF8.self) == String(decoding: plainBatch.bytes, as: UTF8.self),
                            "\(chain) \(mode) host \(host) partial \(partial)")
                        #expect(screenedBatch.recordEnds == plainBatch.recordEnds)
                        #expect(screenedChain.takeDropped() == plainChain.takeDropped(), "\(chain) \(mode)")
                    }
                }
            }
        }
    }

    @Test("the screen stands only for chains that read top-level keys and edit them as it can")
    func onlyScreenableChains() throws {
        for chain in Self.chains { #expect(try Self.enricher(chain, screening: true, mode: .merge, host: true).1.screen != nil, "\(chain)") }
        for chain in [
            #"[{"type":"drop","field":"a.b","equals":[1]}]"#, #"[{"type":"remove","fields":["b"]},{"type":"drop","field":"b","equals":[1]}]"#,
            #"[{"type":"sample","rate":2,"unless":{"field":"a.b","equals":[1]}}]"#, #"[{"type":"redact","pattern":"a"}]"#,
            #"[{"type":"rename","from":"a","to":"b"}]"#, #"[{"type":"redact","fields":["a.b"]}]"#, #"[{"type":"remove","fields":["a.b.c"]}]"#,
            #"[{"type":"remove","fields":["a","a.b"]}]"#, #"[{"type":"remove","fields":["a.b","a.c"]}]"#,
            #"[{"type":"remove","fields":["a"]},{"type":"redact","fields":["a"]}]"#, #"[{"type":"remove","fields":["a."]}]"#,
            #"[{"type":"remove","fields":["a.b"]},{"type":"keep","field":"a","equals":[1]}]"#,
        ] {
            #expect(try Self.enricher(chain, screening: true, mode: .merge, host: true).1.screen == nil, "\(chain)")
        }
    }

    @Test("the screen edits a plain line itself, and leaves a line with an edited key twice to the chain")
    func edits() throws {
        let (_, chain) = try Self.enricher(Self.chains[7], screening: true, mode: .merge, host: false)
        let screen = try #require(chain.screen)
        func decide(_ line: String) -> (FilterScreen.Verdict, String) {
            Array(line.utf8).withUnsafeBytes { bytes in
                let object = screen.scan(bytes).object
                let verdict = screen.decide(in: bytes)
                var out: [UInt8] = []
                if verdict == .edited, let object { screen.writeEdited(bytes, object: object.range, closing: nil, into: &out) }
                return (verdict, String(decoding: out, as: UTF8.self))
            }
        }
        #expect(
            decide(#"{"ts":"t","level":"info","user":{"id":1,"name":"u"},"path":"/p","email":"a@b.c"}"#)
                == (.edited, #"{"ts":"t","level":"info","user":{"id":1},"email":"***@b.c"}"#))
        #expect(decide(#" { "path" : "/p" , "level" : "info" } "#) == (.edited, #"{"level" : "info"}"#))
        #expect(decide(#"{"level":"debug","path":"/p"}"#).0 == .drop(0))
        #expect(decide(#"{"level":"info","msg":"m"}"#).0 == .keep)
        #expect(decide(#"{"email":"none"}"#).0 == .keep)
        #expect(decide(#"{"path":1,"path":2}"#).0 == .chain)
        #expect(decide(#"{"user":{"name":1,"name":2}}"#).0 == .chain)
    }

    @Test("what the screen decides: the last duplicate counts, a missing field never matches, drops counted per filter")
    func decisions() throws {
        let (enricher, chain) = try Self.enricher(Self.chains[2], screening: true, mode: .merge, host: false)
        var batch = RecordBatch()
        enricher.beginBatch()
        for line in [
            #"{"level":"debug","n":1}"#, #"{"level":"info","n":2.5}"#, #"{"level":"info"}"#, #"{"level":"trace","n":"x"}"#,
            #"{"level":"debug","level":"x","n":null}"#,
        ] {
            _ = Array(line.utf8).withUnsafeBytes { enricher.encode(.complete($0), partial: false, into: &batch) }
        }
        #expect(String(decoding: batch.bytes, as: UTF8.self) == "{\"level\":\"info\",\"n\":2.5}\n{\"level\":\"debug\",\"level\":\"x\",\"n\":null}\n")
        #expect(chain.takeDropped() == [1, 1, 1])
    }
}
