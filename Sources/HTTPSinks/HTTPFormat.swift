import Configuration
import Records
import Sinks

/// What a response means for the records it answered (docs/sinks.md, "Shipping over HTTP").
enum HTTPVerdict: Equatable {
    case delivered
    /// The receiver is down or busy (no response, 408, 429, 5xx): retried with backoff, forever.
    case transient(String)
    /// Only a change of configuration helps (401, 403, 404, another 4xx, a missing table): retried
    /// with backoff and shown, never dead-lettered.
    case configuration(String)
    /// The content was refused (400, 413, 422, a ClickHouse parse error): the batch is split until the
    /// refused records stand alone, and those are dead-lettered.
    case rejected(String)
    /// The receiver answered record by record (Elasticsearch's `_bulk`): one verdict per record sent.
    case itemized([HTTPItemVerdict])
    /// Taken, except `rejected` records the receiver does not name (OTLP's `partial_success`): they
    /// are counted as dead-lettered and logged, and nothing is retried.
    case partiallyRejected(Int, String)

    /// The contract's classes by status alone; a format refines them from the body.
    static func byStatus(_ response: HTTPResponse) -> HTTPVerdict {
        let status = response.status
        switch status {
        case 0: return .transient(response.transportError)
        case 200..<300: return .delivered
        case 400, 413, 422: return .rejected("HTTP \(status): \(response.summary)")
        case 408, 429, 500...: return .transient("HTTP \(status): \(response.summary)")
        default: return .configuration("HTTP \(status): \(response.summary)")
        }
    }
}

/// What a receiver said about one record of a request.
enum HTTPItemVerdict: Equatable {
    case delivered
    /// Busy for this record (429, 5xx): sent again, alone with the others like it.
    case retry(String)
    /// Refused for its content: dead-lettered with the item's status and error.
    case rejected(status: Int, detail: [UInt8])
}

extension HTTPResponse {
    /// The body's first line, short enough for a log line and `/health`.
    var summary: String {
        let line = body.prefix(300).split(separator: UInt8(ascii: "\n"), maxSplits: 1).first ?? []
        let text = String(decoding: line, as: UTF8.self)
        return text.isEmpty ? "(empty body)" : text
    }
}

/// One wire format on the delivery core: where a batch goes, how its records are written into the
/// body, and what the receiver's answer means. A new format is one type conforming to this, built by
/// its options type (`HTTPFormatMaking`; `Configuration/HTTP/Formats/HTTPFormatOptions.swift` says the rest).
protocol HTTPFormat {
    var contentType: String { get }
    /// The URL every batch is posted to.
    func requestURL(_ config: HTTPSinkConfig) -> String
    /// True when the body is the records as they are: then they are sent from the batch itself, with
    /// no copy (`encode` is not called).
    var bodyIsRecords: Bool { get }
    /// Appends the body for the records `records` (indices, ascending) of `batch`.
    func encode(_ batch: RecordBatch, _ records: [Int], into body: GrowableBytes)
    /// What `response` means for the `count` records the request held.
    func verdict(_ response: HTTPResponse, count: Int) -> HTTPVerdict
    /// How much of a response body is kept: enough for the answers a format reads.
    var responseLimit: Int { get }
    /// True when it writes each record's origin (`RecordBatch.origins`: Elasticsearch's `_id`): the
    /// pipeline then names the records it batches.
    var namesRecords: Bool { get }
    /// True when it takes records apart (`RecordReader`): the pipeline then hands over the members its
    /// scan found (`RecordBatch.members`), and the reader does not scan those records again.
    var readsMembers: Bool { get }
    /// Records whose own time did not parse since the last call (`log_sidecar_time_parse_errors_total`).
    func takeTimeParseErrors() -> Int
    /// True when a batch must go as one request, never split for the two writing threads: a receiver
    /// whose cost is per request rather than per record (ClickHouse: each INSERT is a part to merge).
    var keepsBatchesWhole: Bool { get }
}

/// A format's options that build the format (in the format's own file, so the configuration types
/// build without the HTTP sinks).
protocol HTTPFormatMaking {
    func makeFormat(shape: RecordShape) -> any HTTPFormat
}

extension HTTPFormat {
    var bodyIsRecords: Bool { false }
    var responseLimit: Int { 64 << 10 }
    var namesRecords: Bool { false }
    var readsMembers: Bool { false }
    func takeTimeParseErrors() -> Int { 0 }
    var keepsBatchesWhole: Bool { false }

    /// The records as they are, for a format whose body is the records but sent with a gap (a split batch).
    func encode(_ batch: RecordBatch, _ records: [Int], into body: GrowableBytes) {
        batch.bytes.withUnsafeBytes { raw in
            for index in records { body.appendBytes(UnsafeRawBufferPointer(rebasing: raw[batch.start(of: index)..<batch.recordEnds[index]])) }
        }
    }

    func verdict(_ response: HTTPResponse, count: Int) -> HTTPVerdict { .byStatus(response) }
}

enum HTTPFormats {
    static func make(_ config: HTTPSinkConfig, shape: RecordShape) throws(SinkFailure) -> any HTTPFormat {
        guard let maker = config.format.options as? any HTTPFormatMaking else {
            throw SinkFailure(accepted: 0, reason: "no HTTP format is built for \(config.format.name)")
        }
        return maker.makeFormat(shape: shape)
    }

    /// `url` when it has a path of its own, else `url` with `path` appended (OTLP's `/v1/logs`).
    static func url(_ url: String, defaultPath path: String) -> String {
        guard let schemeEnd = url.utf8.firstRange(of: "://".utf8)?.upperBound else { return url }
        let rest = url[schemeEnd...]
        guard let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return url + path }
        if rest[slash...] == "/" { return url.dropLast() + path }
        return url
    }
}
