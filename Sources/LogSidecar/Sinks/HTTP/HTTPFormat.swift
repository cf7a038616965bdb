/// What a response means for the records it answered (design.md, "HTTP sinks", errors).
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

extension HTTPResponse {
    /// The body's first line, short enough for a log line and `/health`.
    var summary: String {
        let line = body.prefix(300).split(separator: UInt8(ascii: "\n"), maxSplits: 1).first ?? []
        let text = String(decoding: line, as: UTF8.self)
        return text.isEmpty ? "(empty body)" : text
    }
}

/// One wire format on the delivery core: where a batch goes, how its records are written into the
/// body, and what the receiver's answer means. A new format is one type conforming to this.
protocol HTTPFormat {
    var contentType: String { get }
    /// The URL every batch is posted to.
    func requestURL(_ config: HTTPSinkConfig) -> String
    /// True when the body is the records as they are: then they are sent from the batch itself, with
    /// no copy (`encode` is not called).
    var bodyIsRecords: Bool { get }
    /// Appends the body for `records` (each a JSON object ending in `\n`, back to back).
    func encode(_ records: UnsafeRawBufferPointer, count: Int, into body: inout [UInt8])
    func verdict(_ response: HTTPResponse) -> HTTPVerdict
}

extension HTTPFormat {
    var bodyIsRecords: Bool { false }

    func encode(_ records: UnsafeRawBufferPointer, count: Int, into body: inout [UInt8]) {
        body.append(contentsOf: records)
    }

    func verdict(_ response: HTTPResponse) -> HTTPVerdict { .byStatus(response) }
}

enum HTTPFormats {
    static func make(_ config: HTTPSinkConfig) -> any HTTPFormat {
        switch config.format {
        case .ndjson: return NDJSONFormat()
        case .clickhouse: return ClickHouseFormat()
        }
    }
}
