/// OTLP/HTTP in its JSON encoding (opentelemetry-proto's `ExportLogsServiceRequest`): one
/// `resourceLogs` per request, its resource made of the enrichment fields, one `logRecord` per record
/// (design.md, "HTTP sinks"). Only 429, 502, 503 and 504 are retried, as OTLP allows.
final class OTLPFormat: HTTPFormat {
    private let shape: RecordShape
    private var reader: RecordReader
    private let messageKeys: [[UInt8]]
    private let levelKey: [UInt8]
    private let timeKeys: [[UInt8]]
    /// `"resource":{…},"scopeLogs":[{"scope":{…},"logRecords":[`, built once.
    private let head: [UInt8]
    /// Every key with a role (message, level, time, ids): the rest are attributes without a comparison.
    private let roleKeys: KeyFilter
    /// The last processing time read and its nanoseconds in decimal: a batch's records share one.
    private var lastObserved: (text: [UInt8], decimal: [UInt8]) = ([], [])
    private static let traceKey = Array("trace_id".utf8)
    private static let spanKey = Array("span_id".utf8)

    init(config: HTTPSinkConfig, shape: RecordShape) {
        self.shape = shape
        reader = RecordReader(shape: shape)
        messageKeys = config.messageKey.isEmpty ? [Array("msg".utf8), Array("message".utf8)] : [Array(config.messageKey.utf8)]
        levelKey = Array(config.levelKey.utf8)
        timeKeys = (config.timeKey.isEmpty ? ["time", "ts", "timestamp", "@timestamp"] : [config.timeKey]).map { Array($0.utf8) }
        roleKeys = KeyFilter(messageKeys + timeKeys + [levelKey, Self.traceKey, Self.spanKey])
        var head = Array(#"{"resourceLogs":[{"resource":{"attributes":["#.utf8)
        var separator = false
        for field in shape.fields where field.source == .fixed {
            guard let value = field.value else { continue }
            if separator { head.append(UInt8(ascii: ",")) }
            separator = true
            var name: [UInt8] = []
            JSONEscaper.appendQuoted(String(decoding: field.key, as: UTF8.self) == shape.hostKey ? Array("host.name".utf8)[...] : field.key[...], to: &name)
            value.withUnsafeBytes { value in
                name.withUnsafeBytes { AnyValueWriter.appendKeyValue(key: UnsafeRawBufferPointer(rebasing: $0.dropFirst().dropLast()), value: value, to: &head) }
            }
        }
        head.append(contentsOf: #"]},"scopeLogs":[{"scope":{"name":"log-sidecar"},"logRecords":["#.utf8)
        self.head = head
    }

    var contentType: String { "application/json" }

    func requestURL(_ config: HTTPSinkConfig) -> String { HTTPFormats.url(config.url, defaultPath: "/v1/logs") }

    func encode(_ batch: RecordBatch, _ records: [Int], into body: ByteBuffer) {
        var out = body
        out.appendBytes(head)
        let now = RFC3339.now()
        batch.bytes.withUnsafeBytes { raw in
            for (position, index) in records.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                let record = UnsafeRawBufferPointer(rebasing: raw[batch.start(of: index)..<(batch.recordEnds[index] - 1)])
                appendLogRecord(record, now: now, to: &out)
            }
        }
        out.appendLiteral("]}]}]}")
    }

    /// The members OTLP lifts out of the attributes, found in one pass over the keys.
    private struct Roles {
        var message: Int?
        var messageRank = Int.max
        var level: Int?
        var time: Int?
        var timeRank = Int.max
        var trace: Int?
        var span: Int?
    }

    private func roles(_ record: UnsafeRawBufferPointer) -> Roles {
        var roles = Roles()
        for (index, member) in reader.members.enumerated() where member.source == nil && !member.keyIsEscaped {
            guard roleKeys.mayMatch(member.key.count, record[member.key.lowerBound]) else { continue }
            let key = UnsafeRawBufferPointer(rebasing: record[member.key])
            for (rank, name) in messageKeys.enumerated() where rank < roles.messageRank && key.equals(name) {
                (roles.message, roles.messageRank) = (index, rank)
            }
            if roles.level == nil && key.equals(levelKey) { roles.level = index }
            for (rank, name) in timeKeys.enumerated() where rank < roles.timeRank && key.equals(name) {
                (roles.time, roles.timeRank) = (index, rank)
            }
            if roles.trace == nil && key.equals(Self.traceKey) && Self.isHex(Self.text(record, member.value), length: 32) { roles.trace = index }
            if roles.span == nil && key.equals(Self.spanKey) && Self.isHex(Self.text(record, member.value), length: 16) { roles.span = index }
        }
        return roles
    }

    /// A string value's content between its quotes; empty for any other value.
    private static func text(_ record: UnsafeRawBufferPointer, _ range: Range<Int>) -> UnsafeRawBufferPointer {
        guard range.count >= 2, record[range.lowerBound] == UInt8(ascii: "\"") else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(rebasing: record[(range.lowerBound + 1)..<(range.upperBound - 1)])
    }

    private func appendLogRecord(_ record: UnsafeRawBufferPointer, now: UInt64, to out: inout ByteBuffer) {
        guard reader.read(record) else {
            // Not an object (cannot happen for our records, kept safe): the whole text as the body.
            out.appendLiteral(#"{"observedTimeUnixNano":""#)
            out.appendDecimal(now)
            out.appendLiteral(#"","body":{"stringValue":"#)
            JSONEscaper.appendQuoted(record, to: &out)
            out.appendLiteral("}}")
            return
        }
        let roles = roles(record)
        let members = reader.members
        out.append(UInt8(ascii: "{"))
        if let time = roles.time, let nanoseconds = RFC3339.nanoseconds(Self.text(record, members[time].value)) {
            out.appendLiteral(#""timeUnixNano":""#)
            out.appendDecimal(nanoseconds)
            out.appendLiteral(#"","#)
        }
        out.appendLiteral(#""observedTimeUnixNano":""#)
        appendObserved(reader.timeMember.map { Self.text(record, members[$0].value) }, now: now, to: &out)
        out.append(UInt8(ascii: "\""))
        if let level = roles.level {
            let value = UnsafeRawBufferPointer(rebasing: record[members[level].value])
            let number = Self.severity(value)
            if number > 0 {
                out.appendLiteral(#","severityNumber":"#)
                out.appendDecimal(UInt64(number))
            }
            out.appendLiteral(#","severityText":"#)
            if value.first == UInt8(ascii: "\"") { out.appendBytes(value) } else { JSONEscaper.appendQuoted(value, to: &out) }
        }
        if let message = roles.message {
            out.appendLiteral(#","body":"#)
            AnyValueWriter.append(UnsafeRawBufferPointer(rebasing: record[members[message].value]), to: &out)
        }
        if let trace = roles.trace { appendLowercased(#","traceId":""#, Self.text(record, members[trace].value), to: &out) }
        if let span = roles.span { appendLowercased(#","spanId":""#, Self.text(record, members[span].value), to: &out) }
        out.appendLiteral(#","attributes":["#)
        var separator = false
        for (index, member) in members.enumerated() where index != roles.message && index != roles.level && index != roles.trace && index != roles.span {
            var key = UnsafeRawBufferPointer(rebasing: record[member.key])
            if let source = member.source {
                // Per record: the file and the stream, under OTel's names; the rest is the resource.
                switch source {
                case .file: key = UnsafeRawBufferPointer(start: Self.filePath.utf8Start, count: Self.filePath.utf8CodeUnitCount)
                case .stream: key = UnsafeRawBufferPointer(start: Self.ioStream.utf8Start, count: Self.ioStream.utf8CodeUnitCount)
                case .fixed, .time: continue
                }
            }
            if separator { out.append(UInt8(ascii: ",")) }
            separator = true
            AnyValueWriter.appendKeyValue(key: key, value: UnsafeRawBufferPointer(rebasing: record[member.value]), to: &out)
        }
        out.appendLiteral("]}")
    }

    /// The processing time in nanoseconds, parsed once per distinct text; `now` without one.
    private func appendObserved(_ text: UnsafeRawBufferPointer?, now: UInt64, to out: inout ByteBuffer) {
        guard let text, !text.isEmpty else { return out.appendDecimal(now) }
        if !text.equals(lastObserved.text) {
            var decimal: [UInt8] = []
            decimal.appendDecimal(RFC3339.nanoseconds(text) ?? now)
            lastObserved = (Array(text), decimal)
        }
        out.appendBytes(lastObserved.decimal)
    }

    private static let filePath: StaticString = "log.file.path"
    private static let ioStream: StaticString = "log.iostream"

    private func appendLowercased(_ name: StaticString, _ hex: UnsafeRawBufferPointer, to out: inout ByteBuffer) {
        out.appendLiteral(name)
        for byte in hex { out.append(byte >= 0x41 && byte <= 0x46 ? byte | 0x20 : byte) }
        out.append(UInt8(ascii: "\""))
    }

    /// OTel's severity numbers (the data model's table): trace 1, debug 5, info 9, warn 13, error 17,
    /// fatal 21; pino's and bunyan's numeric levels 10 to 60 map onto the same; 0 when unknown.
    static func severity(_ value: UnsafeRawBufferPointer) -> Int {
        var name = value
        if name.count >= 2 && name.first == UInt8(ascii: "\"") { name = UnsafeRawBufferPointer(rebasing: name.dropFirst().dropLast()) }
        for (level, number) in severities where level.count == name.count {
            if zip(level, name).allSatisfy({ $0 == ($1 >= 0x41 && $1 <= 0x5A ? $1 | 0x20 : $1) }) { return number }
        }
        return 0
    }

    private static let severities: [([UInt8], Int)] = [
        ("trace", 1), ("10", 1), ("debug", 5), ("20", 5), ("info", 9), ("information", 9), ("30", 9), ("notice", 10),
        ("warn", 13), ("warning", 13), ("40", 13), ("error", 17), ("err", 17), ("50", 17), ("fatal", 21), ("critical", 21),
        ("crit", 21), ("panic", 21), ("alert", 21), ("emerg", 21), ("emergency", 21), ("60", 21),
    ].map { (Array($0.0.utf8), $0.1) }

    private static func isHex(_ bytes: UnsafeRawBufferPointer, length: Int) -> Bool {
        bytes.count == length && bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || (($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x66) }
            && bytes.contains { $0 != 0x30 }
    }

    /// OTLP's retryable statuses; every other error is final: a refused batch is split and dead-lettered.
    func verdict(_ response: HTTPResponse, count: Int) -> HTTPVerdict {
        let reason = "HTTP \(response.status): \(response.summary)"
        switch response.status {
        case 200..<300: return Self.partialSuccess(response.body).map { .partiallyRejected($0.0, $0.1) } ?? .delivered
        case 0, 408, 429, 502, 503, 504: return .byStatus(response)
        case 401, 403, 404: return .configuration(reason)
        case 400..<600: return .rejected(reason)
        default: return .byStatus(response)
        }
    }

    /// `{"partialSuccess":{"rejectedLogRecords":"3","errorMessage":"…"}}` with a count above 0.
    static func partialSuccess(_ body: [UInt8]) -> (Int, String)? {
        guard body.count > 2, let value = try? JSONParser.parse(body), let partial = value["partialSuccess"] ?? value["partial_success"] else {
            return nil
        }
        let count: Int?
        switch partial["rejectedLogRecords"] ?? partial["rejected_log_records"] {
        case .string(let text)?: count = Int(text)
        case .number(let text)?: count = Int(text)
        default: count = nil
        }
        guard let count, count > 0 else { return nil }
        var message = ""
        if case .string(let text)? = partial["errorMessage"] ?? partial["error_message"] { message = text }
        return (count, message.isEmpty ? "\(count) records rejected" : message)
    }
}
