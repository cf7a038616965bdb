import Records

/// OTLP's protobuf encoding (`Content-Type: application/x-protobuf`): the same mapping as the JSON
/// writer, in opentelemetry-proto's field numbers (logs.proto, common.proto, resource.proto).
extension OTLPFormat {
    /// `Resource` (field 1 of `ResourceLogs`), built once.
    static func protobufResource(_ shape: RecordShape) -> [UInt8] {
        var out = GrowableBytes()
        let resource = out.beginField(1)
        for attribute in resourceAttributes(shape) {
            attribute.key.withUnsafeBytes { key in
                attribute.value.withUnsafeBytes { ProtobufAnyValue.appendKeyValue(1, key: key, escaped: true, value: $0, to: &out) }
            }
        }
        out.endField(resource)
        return Array(out.bytes)
    }

    func encodeProtobuf(_ batch: RecordBatch, _ records: [Int], into body: GrowableBytes) {
        let now = RFC3339.now()
        // A variable of its own, as the JSON writer's (`encodeJSON`).
        var out = body
        let resourceLogs = out.beginField(1, expected: batch.bytes.count * 2)
        out.appendBytes(protobufResource)
        let scopeLogs = out.beginField(2, expected: batch.bytes.count * 2)
        let scope = out.beginField(1)
        Self.scopeName.withUnsafeBytes { out.appendBytesField(1, $0) }
        out.endField(scope)
        batch.bytes.withUnsafeBytes { raw in
            batch.members.withUnsafeBufferPointer { allMembers in
                for index in records {
                    let record = batch.record(index, in: raw)
                    let logRecord = out.beginField(2, expected: record.count)
                    appendProtobufLogRecord(record, members: batch.members(of: index, in: allMembers), now: now, to: &out)
                    out.endField(logRecord)
                }
            }
        }
        out.endField(scopeLogs)
        out.endField(resourceLogs)
    }

    private static let scopeName = Array("log-sidecar".utf8)

    /// The most a record of `count` bytes becomes in protobuf: no JSON value takes more than 16 times
    /// its text (`-1,` in an array, 13 bytes for 3, comes nearest), and the record's own fields and
    /// lengths stay within the 1 KiB added (as `maximumJSON`).
    static func maximumProtobuf(_ count: Int) -> Int { 16 * count + 1024 }

    /// `LogRecord`: read first (members, roles, times), then written; into room reserved for the most
    /// it can take (`maximumProtobuf`) when it is up to 16 KiB, else, or when the bound missed, into
    /// the body itself.
    private func appendProtobufLogRecord(
        _ record: UnsafeRawBufferPointer, members: UnsafeBufferPointer<PackedMember>?, now: UInt64, to out: inout GrowableBytes
    ) {
        // A record of a layout seen before is read from its template, as the JSON writer reads it
        // (`OTLPTemplates`: the roles, sources and time's place without reading its keys again).
        let roles: Roles
        if !shape.wrapped, let found = members, let slot = templates.match(found, in: record) {
            let facts = templates.facts(slot)
            reader.adopt(found, sources: templates.sources(slot), time: facts.time, wanted: facts.wanted)
            roles = facts.roles
        } else {
            guard reader.read(record, members: members) else {
                let body = out.beginField(5)
                out.appendBytesField(1, record)
                out.endField(body)
                out.appendFixed64(field: 11, now)
                return
            }
            roles = self.roles(record)
            if !shape.wrapped, let found = members, lastRoles.isKept { makeTemplate(record, found: found, roles: roles) }
        }
        let time = reader.time(roles.time, in: record)
        let observed = observedTime(record, now: now)
        if record.count <= Self.boundedRecordBytes,
            out.appendBounded(maximum: Self.maximumProtobuf(record.count), { writeProtobufLogRecord(record, roles, time, observed, to: &$0) })
        {
            return
        }
        writeProtobufLogRecord(record, roles, time, observed, to: &out)
    }

    /// `LogRecord`'s fields: time 1 (fixed64), severity number 2, text 3, body 5, attributes 6, trace id
    /// 9, span id 10, observed time 11 (fixed64), in that order: the canonical encoding, byte for byte
    /// what protobuf's own serializer writes (the tests compare).
    private func writeProtobufLogRecord<Output: ProtobufOutput>(
        _ record: UnsafeRawBufferPointer, _ roles: Roles, _ time: UInt64?, _ observed: UInt64, to out: inout Output
    ) {
        let members = reader.members
        if let time { out.appendFixed64(field: 1, time) }
        if let level = roles.level {
            let value = UnsafeRawBufferPointer(rebasing: record[members[level].value])
            let number = severityMemo.number(value)
            if number > 0 {
                out.appendTag(2, .varint)
                out.appendVarint(UInt64(number))
            }
            if value.first == UInt8(ascii: "\"") {
                out.appendStringField(3, json: RecordReader.stringContent(record, members[level].value))
            } else {
                out.appendBytesField(3, value)
            }
        }
        if let message = roles.message {
            let body = out.beginField(5)
            ProtobufAnyValue.append(UnsafeRawBufferPointer(rebasing: record[members[message].value]), to: &out)
            out.endField(body)
        }
        for index in members.indices where !roles.isLifted(index) {
            let member = members[index]
            var key = UnsafeRawBufferPointer(rebasing: record[member.key])
            var escaped = member.keyIsEscaped
            if let source = members.source(at: index) {
                guard let name = Self.attributeName(source) else { continue }
                (key, escaped) = (name, false)
            }
            ProtobufAnyValue.appendKeyValue(
                6, key: key, escaped: escaped, value: UnsafeRawBufferPointer(rebasing: record[member.value]), to: &out)
        }
        if let trace = roles.trace { appendHexBytes(9, RecordReader.stringContent(record, members[trace].value), to: &out) }
        if let span = roles.span { appendHexBytes(10, RecordReader.stringContent(record, members[span].value), to: &out) }
        out.appendFixed64(field: 11, observed)
    }

    /// An id's hex digits (checked by `roles`: 16 or 32, a multiple of four) as its bytes.
    private func appendHexBytes<Output: ProtobufOutput>(_ field: UInt64, _ hex: UnsafeRawBufferPointer, to out: inout Output) {
        out.appendTag(field, .lengthDelimited)
        out.appendVarint(UInt64(hex.count / 2))
        for index in stride(from: 0, to: hex.count - 3, by: 4) {
            let pair = UnicodeEscape.hex4(hex, at: index) ?? 0
            out.append(UInt8(truncatingIfNeeded: pair >> 8))
            out.append(UInt8(truncatingIfNeeded: pair))
        }
    }

    static func protobufPartialSuccess(_ body: [UInt8]) -> (Int, String)? { ProtobufReader.partialSuccess(body) }
}
