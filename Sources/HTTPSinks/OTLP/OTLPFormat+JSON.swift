import Configuration
import Records

/// OTLP's JSON encoding: proto3's JSON mapping with OTLP's own rules (ids in hex, 64-bit integers as
/// decimal strings, enums as numbers), written straight from the record's bytes.
extension OTLPFormat {
    /// `{"resourceLogs":[{"resource":{"attributes":[…]},"scopeLogs":[{"scope":{…},"logRecords":[`.
    static func jsonHead(_ shape: RecordShape) -> [UInt8] {
        var head = Array(#"{"resourceLogs":[{"resource":{"attributes":["#.utf8)
        for (position, attribute) in resourceAttributes(shape).enumerated() {
            if position > 0 { head.append(UInt8(ascii: ",")) }
            attribute.key.withUnsafeBytes { key in
                attribute.value.withUnsafeBytes { AnyValueWriter.appendKeyValue(key: key, value: $0, to: &head) }
            }
        }
        head.appendLiteral(#"]},"scopeLogs":[{"scope":{"name":"log-sidecar"},"logRecords":["#)
        return head
    }

    func encodeJSON(_ batch: RecordBatch, _ records: [Int], into body: GrowableBytes) {
        let now = RFC3339.now()
        var times = NanosecondDigits()
        batch.bytes.withUnsafeBytes { raw in
            // A constant of the closure's own, in the loop: a variable it captured was boxed, and a
            // variable of its own was still retained and released around each record's appends. The
            // protocol's mutating appends (`ByteOutput`) take a variable copy of the reference.
            let out = body
            out.appendBytes(jsonHead)
            batch.members.withUnsafeBufferPointer { allMembers in
                for (position, index) in records.enumerated() {
                    if position > 0 { out.append(UInt8(ascii: ",")) }
                    let record = batch.record(index, in: raw)
                    let found = shape.wrapped ? nil : batch.members(of: index, in: allMembers)
                    var template = -1
                    let roles: Roles
                    if let found, let slot = templates.match(found, in: record) {
                        let facts = templates.facts(slot)
                        reader.adopt(found, sources: templates.sources(slot), time: facts.time, wanted: facts.wanted)
                        (template, roles) = (slot, facts.roles)
                    } else {
                        guard reader.read(record, members: found) else {
                            // Not an object (cannot happen for our records, kept safe): the whole text as the body.
                            var growable = out
                            growable.appendLiteral(#"{"observedTimeUnixNano":""#)
                            growable.appendDecimal(now)
                            growable.appendLiteral(#"","body":{"stringValue":"#)
                            JSONEscaper.appendQuoted(record, to: &growable)
                            growable.appendLiteral("}}")
                            continue
                        }
                        roles = self.roles(record)
                        if let found, lastRoles.isKept { makeTemplate(record, found: found, roles: roles) }
                    }
                    let (time, fraction) = readTime(roles.time, record, &times)
                    let facts = LogRecordFacts(
                        roles: roles, time: time, fraction: fraction, observed: observedTime(record, now: now), template: template)
                    // Most records are written into room reserved for the most they can take (`maximumJSON`),
                    // without a check of the buffer's size for each of their sixty pieces; a long one, or
                    // one the bound missed, through the growable buffer.
                    if record.count <= Self.boundedRecordBytes,
                        out.appendBounded(maximum: Self.maximumJSON(record.count), { appendJSONLogRecord(record, facts, times: &times, to: &$0) })
                    {
                        continue
                    }
                    var growable = out
                    appendJSONLogRecord(record, facts, times: &times, to: &growable)
                }
            }
            var end = out
            end.appendLiteral("]}]}]}")
        }
    }

    /// The JSON body of `records` of `batch` for records shaped by `shape`, from a format of its own
    /// (the otlp fuzz target holds a batch's body to its records' bodies one by one).
    package static func jsonBody(_ batch: RecordBatch, _ records: [Int], shape: RecordShape) -> [UInt8] {
        let body = GrowableBytes()
        OTLPFormat(options: OTLPOptions(), shape: shape).encodeJSON(batch, records, into: body)
        return Array(body.bytes)
    }

    /// What a record's reading found, before it is written.
    struct LogRecordFacts {
        let roles: Roles
        /// The application's time in nanoseconds, if it has one that parses and `fraction` is nil.
        let time: UInt64?
        /// The application's time as the digits after its second, when `times` holds its second.
        let fraction: NanosecondDigits.Fraction?
        /// The processing time (see `observedTime`).
        let observed: UInt64
        /// The template the record's layout matched (`OTLPTemplates`); -1: none.
        let template: Int
    }

    /// The application's time at `index`: the digits after its second, from its text, when `times`
    /// holds its date and clock (most records); else its nanoseconds, read, and an RFC 3339 text's
    /// date and clock noted for the records after it.
    @inline(__always)
    private func readTime(_ index: Int?, _ record: UnsafeRawBufferPointer, _ times: inout NanosecondDigits) -> (UInt64?, NanosecondDigits.Fraction?) {
        guard let text = reader.rfc3339Text(index, in: record) else { return (reader.time(index, in: record), nil) }
        if let fraction = times.fraction(text) { return (nil, fraction) }
        let value = reader.time(index, in: record)
        if let value { times.note(text, value) }
        return (value, nil)
    }

    /// A template of `record`'s layout, for the records after it (not for itself: a record alone is
    /// written as without templates, which the otlp fuzz target holds a batch's records to).
    func makeTemplate(_ record: UnsafeRawBufferPointer, found: UnsafeBufferPointer<PackedMember>, roles: Roles) {
        let members = reader.members
        templates.make(record, members: members, found: found, roles: roles, time: reader.timeMember, wanted: reader.wantedBits ?? 0) { index in
            guard let source = members.source(at: index) else { return UnsafeRawBufferPointer(rebasing: record[members[index].key]) }
            return Self.attributeName(source)
        }
    }

    /// Records up to this size are written into reserved room (16 times as much and a bit).
    static let boundedRecordBytes = 16 << 10

    /// The most a record of `count` bytes becomes: an `AnyValue` is at most 16 times its JSON text and 13
    /// bytes (`[{},{}]` comes nearest), a key is copied as it is, and the record's own fields (times,
    /// severity, ids, the file's and the stream's attribute names) stay well within the 1 KiB added.
    static func maximumJSON(_ count: Int) -> Int { 16 * count + 1024 }

    private func appendJSONLogRecord<Output: ByteOutput>(
        _ record: UnsafeRawBufferPointer, _ facts: LogRecordFacts, times: inout NanosecondDigits, to out: inout Output
    ) {
        let roles = facts.roles
        let members = reader.members
        out.append(UInt8(ascii: "{"))
        if let fraction = facts.fraction {
            out.appendLiteral(#""timeUnixNano":""#)
            times.append(fraction, to: &out)
            out.appendLiteral(#"","#)
        } else if let nanoseconds = facts.time {
            out.appendLiteral(#""timeUnixNano":""#)
            times.append(nanoseconds, to: &out)
            out.appendLiteral(#"","#)
        }
        appendObservedTime(facts.observed, to: &out)
        if let level = roles.level {
            let value = UnsafeRawBufferPointer(rebasing: record[members[level].value])
            let number = severityMemo.number(value)
            if number > 0 {
                out.appendLiteral(#","severityNumber":"#)
                // One or two digits (1 to 24): `appendDecimal`'s loop cost some ninety instructions.
                if number >= 10 { out.append(UInt8(truncatingIfNeeded: 0x30 &+ number / 10)) }
                out.append(UInt8(truncatingIfNeeded: 0x30 &+ number % 10))
            }
            out.appendLiteral(#","severityText":"#)
            if value.first == UInt8(ascii: "\"") { out.appendBytes(value) } else { JSONEscaper.appendQuoted(value, to: &out) }
        }
        if let message = roles.message {
            out.appendLiteral(#","body":"#)
            AnyValueWriter.append(UnsafeRawBufferPointer(rebasing: record[members[message].value]), to: &out)
        }
        if let trace = roles.trace { appendLowercased(#","traceId":""#, RecordReader.stringContent(record, members[trace].value), to: &out) }
        if let span = roles.span { appendLowercased(#","spanId":""#, RecordReader.stringContent(record, members[span].value), to: &out) }
        out.appendLiteral(#","attributes":["#)
        if facts.template >= 0 {
            templates.appendAttributes(facts.template, record, members, to: &out)
            out.appendLiteral("]}")
            return
        }
        var separator = false
        for index in members.indices where !roles.isLifted(index) {
            let member = members[index]
            var key = UnsafeRawBufferPointer(rebasing: record[member.key])
            if let source = members.source(at: index) {
                // Per record: the file and the stream, under OTel's names; the rest is the resource.
                guard let name = Self.attributeName(source) else { continue }
                key = name
            }
            if separator { out.append(UInt8(ascii: ",")) }
            separator = true
            AnyValueWriter.appendKeyValue(key: key, value: UnsafeRawBufferPointer(rebasing: record[member.value]), to: &out)
        }
        out.appendLiteral("]}")
    }

    private func appendLowercased<Output: ByteOutput>(_ name: StaticString, _ hex: UnsafeRawBufferPointer, to out: inout Output) {
        out.appendLiteral(name)
        for byte in hex { out.append(byte >= 0x41 && byte <= 0x46 ? byte | 0x20 : byte) }
        out.append(UInt8(ascii: "\""))
    }
}
