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
    private static let traceKey = Array("trace_id".utf8)
    private static let spanKey = Array("span_id".utf8)

    init(config: HTTPSinkConfig, shape: RecordShape) {
        self.shape = shape
        reader = RecordReader(shape: shape)
        messageKeys = config.messageKey.isEmpty ? [Array("msg".utf8), Array("message".utf8)] : [Array(config.messageKey.utf8)]
        levelKey = Array(config.levelKey.utf8)
        timeKeys = (config.timeKey.isEmpty ? ["time", "ts", "timestamp", "@timestamp"] : [config.timeKey]).map { Array($0.utf8) }
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

    func encode(_ batch: RecordBatch, _ records: [Int], into body: inout [UInt8]) {
        body.append(contentsOf: head)
        let now = RFC3339.now()
        batch.bytes.withUnsafeBytes { raw in
            for (position, index) in records.enumerated() {
                if position > 0 { body.append(UInt8(ascii: ",")) }
                let record = UnsafeRawBufferPointer(rebasing: raw[batch.start(of: index)..<(batch.recordEnds[index] - 1)])
                appendLogRecord(record, now: now, to: &body)
            }
        }
        body.append(contentsOf: "]}]}]}".utf8)
    }

    private func appendLogRecord(_ record: UnsafeRawBufferPointer, now: UInt64, to out: inout [UInt8]) {
        guard reader.read(record) else {
            // Not an object (cannot happen for our records, kept safe): the whole text as the body.
            out.append(contentsOf: #"{"observedTimeUnixNano":"\#(now)","body":{"stringValue":"#.utf8)
            JSONEscaper.appendQuoted(record, to: &out)
            out.append(contentsOf: "}}".utf8)
            return
        }
        let members = reader.members
        func value(_ index: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: record[members[index].value]) }
        func text(_ index: Int) -> UnsafeRawBufferPointer? {
            let bytes = value(index)
            guard bytes.count >= 2, bytes.first == UInt8(ascii: "\"") else { return nil }
            return UnsafeRawBufferPointer(rebasing: bytes.dropFirst().dropLast())
        }
        let message = reader.first(of: messageKeys, in: record)
        let level = reader.first(of: [levelKey], in: record)
        let time = reader.first(of: timeKeys, in: record)
        let trace = reader.first(of: [Self.traceKey], in: record).flatMap { index in text(index).flatMap { Self.isHex($0, length: 32) ? index : nil } }
        let span = reader.first(of: [Self.spanKey], in: record).flatMap { index in text(index).flatMap { Self.isHex($0, length: 16) ? index : nil } }
        out.append(UInt8(ascii: "{"))
        if let time, let nanoseconds = text(time).flatMap(RFC3339.nanoseconds) {
            out.append(contentsOf: #""timeUnixNano":"\#(nanoseconds)","#.utf8)
        }
        let observed = reader.field(.time).flatMap(text).flatMap(RFC3339.nanoseconds) ?? now
        out.append(contentsOf: #""observedTimeUnixNano":"\#(observed)""#.utf8)
        if let level {
            let number = Self.severity(value(level))
            if number > 0 { out.append(contentsOf: #","severityNumber":\#(number)"#.utf8) }
            out.append(contentsOf: #","severityText":"#.utf8)
            if text(level) != nil { out.appendBytes(value(level)) } else { JSONEscaper.appendQuoted(value(level), to: &out) }
        }
        if let message {
            out.append(contentsOf: #","body":"#.utf8)
            AnyValueWriter.append(value(message), to: &out)
        }
        if let trace, let hex = text(trace) { appendLowercased(#","traceId":""#, hex, to: &out) }
        if let span, let hex = text(span) { appendLowercased(#","spanId":""#, hex, to: &out) }
        out.append(contentsOf: #","attributes":["#.utf8)
        var separator = false
        for (index, member) in members.enumerated() where index != message && index != level && index != trace && index != span {
            var key = UnsafeRawBufferPointer(rebasing: record[member.key])
            if let field = member.field {
                // Per record: the file and the stream, under OTel's names; the rest is the resource.
                switch shape.fields[field].source {
                case .file: key = UnsafeRawBufferPointer(start: Self.filePath.utf8Start, count: Self.filePath.utf8CodeUnitCount)
                case .stream: key = UnsafeRawBufferPointer(start: Self.ioStream.utf8Start, count: Self.ioStream.utf8CodeUnitCount)
                case .fixed, .time: continue
                }
            }
            if separator { out.append(UInt8(ascii: ",")) }
            separator = true
            AnyValueWriter.appendKeyValue(key: key, value: value(index), to: &out)
        }
        out.append(contentsOf: "]}".utf8)
    }

    private static let filePath: StaticString = "log.file.path"
    private static let ioStream: StaticString = "log.iostream"

    private func appendLowercased(_ name: String, _ hex: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        for byte in hex { out.append(byte >= 0x41 && byte <= 0x46 ? byte | 0x20 : byte) }
        out.append(UInt8(ascii: "\""))
    }

    /// OTel's severity numbers (the data model's table): trace 1, debug 5, info 9, warn 13, error 17,
    /// fatal 21; pino's and bunyan's numeric levels 10 to 60 map onto the same; 0 when unknown.
    static func severity(_ value: UnsafeRawBufferPointer) -> Int {
        var name: [UInt8] = []
        for byte in value where byte != UInt8(ascii: "\"") {
            guard name.count < 16 else { return 0 }
            name.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
        }
        switch String(decoding: name, as: UTF8.self) {
        case "trace", "10": return 1
        case "debug", "20": return 5
        case "info", "information", "30": return 9
        case "notice": return 10
        case "warn", "warning", "40": return 13
        case "error", "err", "50": return 17
        case "fatal", "critical", "crit", "panic", "alert", "emerg", "emergency", "60": return 21
        default: return 0
        }
    }

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
