import Configuration
import Filters
import Foundation
import HTTPSinks
import Processing
import Records
import Tailing

// libFuzzer targets over what reads outside data, built from the modules by Fuzz/run.sh (one binary;
// FUZZ_TARGET picks the target). Each property failure aborts, so libFuzzer keeps the input.

private func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        FileHandle.standardError.write(Data(("property failed: " + message() + "\n").utf8))
        abort()
    }
}

/// Deep equality of parsed JSON values, through a canonical serialization.
private func same(_ a: Any, _ b: Any) -> Bool {
    let options: JSONSerialization.WritingOptions = [.sortedKeys, .fragmentsAllowed]
    return (try? JSONSerialization.data(withJSONObject: [a], options: options))
        == (try? JSONSerialization.data(withJSONObject: [b], options: options))
}

private func hasHugeNumber(_ value: JSONValue) -> Bool {
    switch value {
    case .number(let text): return !(Double(text)?.isFinite ?? false)
    case .array(let items): return items.contains(where: hasHugeNumber)
    case .object(let members): return members.contains { hasHugeNumber($0.value) }
    default: return false
    }
}

private let fields = [
    EnrichmentField(key: "host", value: Array(#""fuzz-host""#.utf8)), EnrichmentField(key: "processed_at", value: nil),
    EnrichmentField(key: "msg", value: Array(#"{"static":[1,true,null]}"#.utf8)),
]
// libFuzzer calls the target from one thread only.
nonisolated(unsafe) private let enrichers = [
    Enricher(mode: .merge, fields: fields), Enricher(mode: .wrap, fields: fields), Enricher(mode: .merge, format: .text, fields: fields),
]

/// The input's lines as a file of it would give them (a long one cut at 512 bytes).
private func splitLines(_ input: UnsafeRawBufferPointer) -> [[UInt8]] {
    let splitter = LineSplitter(maxLineBytes: 512, readSize: 256)
    var lines: [[UInt8]] = []
    splitter.append(input) { line in
        switch line {
        case .complete(let bytes): lines.append(Array(bytes))
        case .truncated(let head, _): lines.append(Array(head))
        }
    }
    return lines
}

/// Scanner + enricher: never crash; one valid JSON object per line; a valid object keeps every member.
private func fuzzEnricher(_ input: UnsafeRawBufferPointer) {
    let mode = input.first.map { Int($0) % 3 } ?? 0
    let enricher = enrichers[mode]
    let lines = splitLines(input)
    for line in lines {
        var batch = RecordBatch()
        enricher.beginBatch()
        let outcome = line.withUnsafeBytes { enricher.encode(.complete($0), partial: mode == 1 && line.count % 3 == 0, into: &batch) }
        if outcome == .empty { continue }
        require(batch.count == 1 && batch.bytes.last == 0x0A, "one record ending in a newline")
        let record = Array(batch.bytes.dropLast())
        require(!record.contains(0x0A), "no newline inside a record")
        let parsed = try? JSONParser.parse(record)
        guard case .object? = parsed, let parsed else {
            require(false, "not a JSON object: \(String(decoding: record, as: UTF8.self))")
            return
        }
        let output = (try? JSONSerialization.jsonObject(with: Data(record))) as? [String: Any]
        require(output != nil || hasHugeNumber(parsed), "Foundation refuses the record: \(String(decoding: record, as: UTF8.self))")
        guard let output, outcome == .record, mode != 2,
            let original = (try? JSONSerialization.jsonObject(with: Data(line.drop { $0 == 0x20 }))) as? [String: Any]
        else { continue }
        let members = mode == 0 ? output : (output["raw"] as? [String: Any] ?? [:])
        for (key, value) in original {
            require(members[key].map { same($0, value) } == true, "member \(key) lost or changed")
        }
    }
}

// Two chains that between them use every filter type, nested paths and redaction everywhere.
nonisolated(unsafe) private let filtered: [Enricher] = [
    #"[{"type":"drop","field":"level","equals":["debug",5e2,null]},{"type":"remove","fields":["x","a.b"]},{"type":"rename","from":"y","to":"z.w"},"#
        + #"{"type":"redact","fields":["m","o.p"],"pattern":"[0-9]+","replacement":"N"},{"type":"redact","pattern":"s|\\\\","replacement":"\\\""}]"#,
    #"[{"type":"keep","field":"n","matches":"^-?[0-9]|^$"},{"type":"rename","from":"a.b","to":"a"},{"type":"redact","fields":["a"]},"#
        + #"{"type":"redact","fields":["m"],"pattern":"s*|\\K","replacement":"-"},"#
        + #"{"type":"sample","rate":2,"unless":{"field":"k","equals":["v"]}},{"type":"throttle","per_second":1000000}]"#,
].map { text in
    // The lists are fixed and valid: a failure here is a bug in this file.
    let configs = try! FilterSchema.parseList(try! JSONParser.parse(text), key: "filters")
    return Enricher(mode: .merge, fields: fields, filters: try! FilterChain(configs))
}

/// Chains the screen decides (`FilterScreen`), in each mode, decided by the screen and by the chain
/// itself: one that only reads (drop, keep, sample, throttle), and one that edits too (remove of a
/// top-level key and of a nested one, redact by a pattern and of a whole value) around a sample and a
/// drop; the fields without the time, which two enrichers would read at two instants, and one clock
/// set for both chains.
private struct ScreenPair {
    let screened: Enricher
    let screenedChain: FilterChain
    let chained: Enricher
    let chain: FilterChain
}

nonisolated(unsafe) private let screened: [ScreenPair] = [
    #"[{"type":"drop","field":"level","equals":["debug",5e2,null,true,""]},{"type":"keep","field":"n","matches":"^-?[0-9]|^$|^x"},"#
        + #"{"type":"drop","field":"msg","equals":[1,"m"]},{"type":"drop","field":"level","matches":"^t"},"#
        + #"{"type":"sample","rate":3,"unless":{"field":"n","equals":[7]}},{"type":"throttle","per_second":5,"unless":{"field":"level","equals":["e"]}}]"#,
    #"[{"type":"remove","fields":["x","u.n"]},{"type":"sample","rate":3,"unless":{"field":"level","equals":["e"]}},"#
        + #"{"type":"redact","fields":["e","level"],"pattern":"[@a\\\"]","replacement":"\"*"},{"type":"drop","field":"n","equals":[1]},"#
        + #"{"type":"redact","fields":["p"]},{"type":"remove","fields":["q.r"]}]"#,
].flatMap { text in
    [EnrichMode.merge, .wrap].map { mode in
        let configs = try! FilterSchema.parseList(try! JSONParser.parse(text), key: "filters")
        let fields = [EnrichmentField(key: "host", value: Array(#""fuzz-host""#.utf8)), EnrichmentField(key: "msg", value: Array("1".utf8))]
        let (screenedChain, chain) = (try! FilterChain(configs), try! FilterChain(configs, screening: false))
        return ScreenPair(
            screened: Enricher(mode: mode, fields: fields, filters: screenedChain), screenedChain: screenedChain,
            chained: Enricher(mode: mode, fields: fields, filters: chain), chain: chain)
    }
}

/// Filters: never crash; every record they keep is one JSON object; what remove and rename take away is
/// gone; a chain with a screen writes what it writes without one.
private func fuzzFilters(_ input: UnsafeRawBufferPointer) {
    // An input that starts with a byte above 0x7F goes to a screen's pair (its low bit the mode, the
    // next the chain): the seeds of the two chains below start with their first line's `{`.
    let first = input.first.map(Int.init) ?? 0
    if first >= 0x80 { return fuzzScreen(input, screened[first & 3]) }
    let which = first & 1
    let lines = splitLines(input)
    for line in lines {
        var batch = RecordBatch()
        filtered[which].beginBatch()
        _ = line.withUnsafeBytes { filtered[which].encode(.complete($0), partial: false, into: &batch) }
        if batch.isEmpty { continue }
        require(batch.count == 1 && batch.bytes.last == 0x0A, "one record ending in a newline")
        let record = Array(batch.bytes.dropLast())
        guard case .object(let members)? = try? JSONParser.parse(record) else {
            require(false, "not a JSON object: \(String(decoding: record, as: UTF8.self))")
            return
        }
        if which == 0 {
            require(!members.contains { $0.key == "x" || $0.key == "y" }, "x removed and y renamed: \(String(decoding: record, as: UTF8.self))")
        }
    }
}

private func fuzzScreen(_ input: UnsafeRawBufferPointer, _ pair: ScreenPair) {
    let partial = input.count > 1 && input[1] & 1 == 1
    var screenedBatch = RecordBatch()
    var chainBatch = RecordBatch()
    pair.screened.beginBatch()
    pair.chained.beginBatch()
    // The throttle's clock from the input: windows begin and end between inputs.
    let nowMs = Int64(input.count > 2 ? input[2] : 0) * 300
    (pair.screenedChain.nowMs, pair.chain.nowMs) = (nowMs, nowMs)
    for line in splitLines(input) {
        let outcomes = line.withUnsafeBytes {
            (
                pair.screened.encode(.complete($0), partial: partial, into: &screenedBatch),
                pair.chained.encode(.complete($0), partial: partial, into: &chainBatch)
            )
        }
        require(outcomes.0 == outcomes.1, "the same outcome with the screen and without")
    }
    require(
        screenedBatch.bytes == chainBatch.bytes && screenedBatch.recordEnds == chainBatch.recordEnds,
        "the same records with the screen and without: \(String(decoding: screenedBatch.bytes, as: UTF8.self)) against \(String(decoding: chainBatch.bytes, as: UTF8.self))"
    )
    require(pair.screenedChain.takeDropped() == pair.chain.takeDropped(), "the same drops counted with the screen and without")
}

/// Checkpoint decoder: never crash; what it accepts is in range and survives a round trip.
private func fuzzCheckpoint(_ input: UnsafeRawBufferPointer) {
    guard let checkpoint = try? Checkpoint.decode(Array(input)) else { return }
    for entry in checkpoint.entries {
        require((0...FileIdentity.maximumPrefix).contains(entry.identity.prefixLength), "prefix_length in range")
        require((0...Checkpoint.maximumOffset).contains(entry.offset), "offset in range")
    }
    require((try? Checkpoint.decode(checkpoint.encoded())) == checkpoint, "round trip")
}

/// Configuration: never crash; a bad one names a key; a good one renders to a file that loads the same.
private func fuzzConfig(_ input: UnsafeRawBufferPointer) {
    var config = Config()
    do {
        if input.first.map({ $0 & 1 == 0 }) ?? true {
            try ConfigLoader.applyDocument(Array(input), from: "fuzz.json", to: &config, settings: ConfigSchema.settings)
            try ConfigLoader.validate(config)
        } else {
            let flags = input.dropFirst().split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            config = try ConfigLoader.load(file: nil, environment: [:], flags: flags)
        }
    } catch {
        require(!error.key.isEmpty, "a configuration error names its key")
        return
    }
    let rendered = Array(ConfigLoader.render(config).serialized.utf8)
    var again = Config()
    do {
        try ConfigLoader.applyDocument(rendered, from: "rendered.json", to: &again, settings: ConfigSchema.settings)
    } catch {
        require(false, "the rendered configuration does not load: \(error)")
    }
    require(again.resolved == config.resolved, "render and load give the same configuration")
}

/// Walks an `AnyValue` message's content (common.proto); false unless every byte is a known field.
private func isAnyValue(_ bytes: ArraySlice<UInt8>) -> Bool {
    var reader = ProtobufReader(bytes)
    var fields = 0
    while let (field, value) = reader.next() {
        fields += 1
        switch (field, value) {
        case (1, .bytes(let text)): if String(validating: text, as: UTF8.self) == nil { return false }
        case (2, .varint), (3, .varint), (4, .other): break
        case (5, .bytes(let array)):
            var items = ProtobufReader(array)
            while let (number, item) = items.next() {
                guard number == 1, case .bytes(let content) = item, isAnyValue(content) else { return false }
            }
            if !items.bytes.isEmpty { return false }
        case (6, .bytes(let list)):
            var pairs = ProtobufReader(list)
            while let (number, pair) = pairs.next() {
                guard number == 1, case .bytes(let content) = pair, ProtobufReader.field(1, in: content) != nil,
                    let inner = ProtobufReader.field(2, in: content), isAnyValue(inner)
                else { return false }
            }
            if !pairs.bytes.isEmpty { return false }
        default: return false
        }
    }
    return reader.bytes.isEmpty && fields <= 1
}

/// OTLP's writers over the records the enricher makes of any line: every member's value becomes JSON
/// that parses, within 16 times its text and 13 bytes, and protobuf that walks as an `AnyValue`; a
/// key-value is its key and its value's `AnyValue`; the lines' records in one request read as each
/// alone (what one record's roles leave for the next); a response body of any bytes is read without
/// a crash.
private func fuzzOTLP(_ input: UnsafeRawBufferPointer) {
    _ = ProtobufReader.partialSuccess(Array(input))
    let lines = splitLines(input)
    var all = RecordBatch()
    enrichers[0].beginBatch()
    for line in lines { _ = line.withUnsafeBytes { enrichers[0].encode(.complete($0), partial: false, into: &all) } }
    let shape = RecordShape(fields: fields)
    func logRecords(_ body: [UInt8]) -> [NSDictionary]? {
        let document = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        let scopeLogs = (document?["resourceLogs"] as? [[String: Any]])?.first?["scopeLogs"] as? [[String: Any]]
        return scopeLogs?.first?["logRecords"] as? [NSDictionary]
    }
    let together = logRecords(OTLPFormat.jsonBody(all, Array(0..<all.count), shape: shape))
    require(together?.count == all.count, "a request of every record parses")
    for index in 0..<all.count {
        let alone = logRecords(OTLPFormat.jsonBody(all, [index], shape: shape))?.first
        require(alone != nil && together?[index] == alone, "record \(index) reads the same in the request as alone")
    }
    for line in lines {
        var batch = RecordBatch()
        enrichers[0].beginBatch()
        _ = line.withUnsafeBytes { enrichers[0].encode(.complete($0), partial: false, into: &batch) }
        batch.forEachRecord { _, record in
            var json: [UInt8] = Array("[".utf8)
            let object = RecordMembers.forEach(record) { member in
                let value = UnsafeRawBufferPointer(rebasing: record[member.value])
                if json.count > 1 { json.append(UInt8(ascii: ",")) }
                let before = json.count
                AnyValueWriter.append(value, to: &json)
                // The bound OTLP reserves room by (`OTLPFormat.maximumJSON`).
                require(json.count - before <= 16 * value.count + 13, "AnyValue within its bound: \(String(decoding: value, as: UTF8.self))")
                var pair: [UInt8] = []
                AnyValueWriter.appendKeyValue(key: UnsafeRawBufferPointer(rebasing: record[member.key]), value: value, to: &pair)
                require(
                    pair == Array(#"{"key":""#.utf8) + record[member.key] + Array(#"","value":"#.utf8) + json[before...] + [UInt8(ascii: "}")],
                    "a key-value is its key and its value's AnyValue")
                let protobuf = GrowableBytes()
                ProtobufAnyValue.append(value, to: protobuf)
                require(isAnyValue(Array(protobuf.bytes)[...]), "protobuf AnyValue of \(String(decoding: value, as: UTF8.self))")
                // The same through room reserved by OTLP's bound (`OTLPFormat.maximumProtobuf`), its
                // lengths widened in place.
                let room = 16 * value.count + 13
                let bounded = GrowableBytes()
                let fits = bounded.appendBounded(maximum: room) { ProtobufAnyValue.append(value, to: &$0) }
                require(fits && Array(bounded.bytes) == Array(protobuf.bytes), "protobuf AnyValue in its bound, as written unbounded")
            }
            require(object, "our record is an object: \(String(decoding: record, as: UTF8.self))")
            json.append(UInt8(ascii: "]"))
            require((try? JSONSerialization.jsonObject(with: Data(json))) != nil, "AnyValue JSON parses: \(String(decoding: json, as: UTF8.self))")
        }
    }
}

private let target = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "enricher"

func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    switch target {
    case "checkpoint": fuzzCheckpoint(input)
    case "config": fuzzConfig(input)
    case "filters": fuzzFilters(input)
    case "otlp": fuzzOTLP(input)
    case "multiline": fuzzMultiline(input)
    case "logfmt": fuzzLogfmt(input)
    case "time": fuzzTime(input)
    case "http": fuzzHTTPResponse(input)
    case "health": fuzzHealthRequest(input)
    case "scanner": fuzzScanner(input)
    default: fuzzEnricher(input)
    }
    return 0
}
