import Configuration
import Glibc
import Records

/// Elasticsearch's and OpenSearch's `_bulk` API: a `create` action per record with an `_id` made of the
/// record's origin (file identity and offset), so a batch sent again after a timeout or a restart
/// yields 409s for what already landed instead of duplicates. The response says per item what
/// happened: 201 and 409 are delivered, 429 and 5xx items are sent again alone, the others are
/// dead-lettered with their error.
final class ElasticsearchFormat: HTTPFormat {
    private let index: [UInt8]
    private let datePattern: Bool

    init(options: ElasticsearchOptions) {
        index = Array(options.index.utf8)
        datePattern = options.index.contains("%")
    }

    var contentType: String { "application/x-ndjson" }
    var namesRecords: Bool { true }
    /// A bulk response names every item (about 100 bytes each, more with an error).
    var responseLimit: Int { 64 << 20 }

    func requestURL(_ config: HTTPSinkConfig) -> String { HTTPFormats.url(config.url, defaultPath: "/_bulk") }

    /// The index for a request sent now: `%Y.%m.%d` from today's date in UTC.
    func currentIndex() -> [UInt8] {
        guard datePattern else { return index }
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var out: [UInt8] = []
        var position = 0
        while position < index.count {
            if index[position] == UInt8(ascii: "%"), position + 1 < index.count {
                switch index[position + 1] {
                case UInt8(ascii: "Y"): out.append(contentsOf: String(parts.tm_year + 1900).utf8)
                case UInt8(ascii: "m"): out.append(contentsOf: Self.twoDigits(parts.tm_mon + 1))
                default: out.append(contentsOf: Self.twoDigits(parts.tm_mday))
                }
                position += 2
            } else {
                out.append(index[position])
                position += 1
            }
        }
        return out
    }

    private static func twoDigits(_ value: Int32) -> [UInt8] { [UInt8(0x30 + value / 10), UInt8(0x30 + value % 10)] }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    func encode(_ batch: RecordBatch, _ records: [Int], into body: GrowableBytes) {
        // Without origins (none recorded: cannot happen when this sink is configured) Elasticsearch
        // picks the ids, and a retry may duplicate; an empty `_id` would be refused.
        let named = batch.origins.count == batch.count
        let action = Array(#"{"create":{"_index":""#.utf8) + currentIndex() + Array((named ? #"","_id":""# : #""}}"#).utf8)
        var body = body
        batch.bytes.withUnsafeBytes { raw in
            for index in records {
                body.appendBytes(action)
                if named {
                    let origin = batch.origins[index]
                    for shift in stride(from: 60, through: 0, by: -4) { body.append(Self.hex[Int((origin.source >> UInt64(shift)) & 0xF)]) }
                    body.append(UInt8(ascii: "-"))
                    body.appendDecimal(UInt64(max(0, origin.offset)))
                    body.appendLiteral("\"}}")
                }
                body.append(0x0A)
                body.appendBytes(UnsafeRawBufferPointer(rebasing: raw[batch.start(of: index)..<batch.recordEnds[index]]))
            }
        }
    }

    func verdict(_ response: HTTPResponse, count: Int) -> HTTPVerdict {
        guard (200..<300).contains(response.status) else { return .byStatus(response) }
        // `"errors":false` comes first in every bulk response: nothing else to read.
        if response.body.prefix(64).firstRange(of: Array(#""errors":false"#.utf8)) != nil { return .delivered }
        guard response.body.count < responseLimit, case .object? = try? JSONParser.parse(response.body),
            let document = try? JSONParser.parse(response.body), case .array(let items)? = document["items"]
        else {
            return .transient("HTTP \(response.status): a bulk response that cannot be read: \(response.summary)")
        }
        guard items.count == count else {
            return .transient("HTTP \(response.status): the bulk response has \(items.count) items for \(count) records")
        }
        return .itemized(items.map(Self.itemVerdict))
    }

    /// `{"create":{"status":201,…}}`; 409 (the `_id` exists: a record sent before) is delivered.
    static func itemVerdict(_ item: JSONValue) -> HTTPItemVerdict {
        guard case .object(let actions) = item, let result = actions.first?.value, case .number(let text)? = result["status"],
            let status = Int(text)
        else {
            return .retry("a bulk item without a status")
        }
        switch status {
        case 200..<300, 409: return .delivered
        case 429, 500...:
            return .retry("item \(status): \(result["error"].map { Self.errorSummary($0) } ?? "")")
        default:
            let detail = result["error"]?.serialized ?? result.serialized
            return .rejected(status: status, detail: Array(detail.utf8))
        }
    }

    private static func errorSummary(_ error: JSONValue) -> String {
        if case .string(let reason)? = error["reason"] { return reason }
        return error.serialized
    }
}

extension ElasticsearchOptions: HTTPFormatMaking {
    func makeFormat(shape: RecordShape) -> any HTTPFormat { ElasticsearchFormat(options: self) }
}
