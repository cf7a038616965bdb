import Configuration
import Records

/// `INSERT INTO db.table FORMAT JSONEachRow` over ClickHouse's HTTP interface: our records are
/// already one JSON object per line, so the body is the records as they are. ClickHouse rejects a
/// whole insert for one bad row, with 500 as often as 400, so the exception code decides.
struct ClickHouseFormat: HTTPFormat {
    let options: ClickHouseOptions
    var contentType: String { "application/x-ndjson" }
    var bodyIsRecords: Bool { true }
    /// Every INSERT writes a part that the server merges later: a batch split in two for the writing
    /// threads doubled the parts, and ClickHouse's CPU per row with them (Benchmarks/README.md, "ClickHouse").
    var keepsBatchesWhole: Bool { true }

    /// Parse and type errors: the content, not the server, is at fault (ClickHouse's ErrorCodes.cpp):
    /// CANNOT_PARSE_TEXT 6, CANNOT_PARSE_ESCAPE_SEQUENCE 25, CANNOT_PARSE_QUOTED_STRING 26,
    /// CANNOT_PARSE_INPUT_ASSERTION_FAILED 27, ATTEMPT_TO_READ_AFTER_EOF 32, CANNOT_READ_ALL_DATA 33,
    /// CANNOT_PARSE_DATE 38, CANNOT_PARSE_DATETIME 41, TYPE_MISMATCH 53, ARGUMENT_OUT_OF_BOUND 69,
    /// CANNOT_CONVERT_TYPE 70, CANNOT_PARSE_NUMBER 72, INCORRECT_DATA 117, CANNOT_READ_ARRAY_FROM_TEXT
    /// 130, TOO_LARGE_STRING_SIZE 131, VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE 321,
    /// CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN 349, CANNOT_PARSE_UUID 376, CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING
    /// 441, CANNOT_PARSE_BOOL 467.
    static let contentErrorCodes: Set<Int> = [6, 25, 26, 27, 32, 33, 38, 41, 53, 69, 70, 72, 117, 130, 131, 321, 349, 376, 441, 467]
    /// UNKNOWN_TABLE 60, UNKNOWN_DATABASE 81, and the authentication and permission codes: only the
    /// operator can mend them.
    static let configurationErrorCodes: Set<Int> = [60, 81, 164, 192, 193, 194, 195, 197, 291, 497, 516]

    /// Settings in the configured URL's query (`?date_time_input_format=best_effort`) are kept.
    func requestURL(_ config: HTTPSinkConfig) -> String {
        let parts = config.url.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var base = String(parts[0])
        while base.hasSuffix("/") { base.removeLast() }
        let query = "INSERT%20INTO%20%60\(options.database)%60.%60\(options.table)%60%20FORMAT%20JSONEachRow"
        let settings = parts.count > 1 && !parts[1].isEmpty ? "&" + parts[1] : ""
        return base + "/?query=" + query + settings + "&input_format_skip_unknown_fields=1"
    }

    func verdict(_ response: HTTPResponse, count: Int) -> HTTPVerdict {
        let code = response.clickHouseCode ?? Self.exceptionCode(in: response.body)
        let isSuccess = (200..<300).contains(response.status)
        // An insert answers 200 with an empty body; anything that names an exception is an error.
        if isSuccess && code == nil && !Self.looksLikeError(response.body) { return .delivered }
        let reason = "HTTP \(response.status), ClickHouse code \(code.map(String.init) ?? "none"): \(response.summary)"
        guard let code else { return isSuccess ? .transient(reason) : .byStatus(response) }
        if Self.contentErrorCodes.contains(code) { return .rejected(reason) }
        if Self.configurationErrorCodes.contains(code) { return .configuration(reason) }
        switch HTTPVerdict.byStatus(response) {
        case .delivered: return .transient(reason)
        case .rejected: return .configuration(reason)  // a 400 for the query, not a row: not the records' fault
        case let other: return other
        }
    }

    /// `Code: N` at the start of the body (ClickHouse's plain-text exception).
    static func exceptionCode(in body: [UInt8]) -> Int? {
        let marker = Array("Code: ".utf8)
        guard let start = body.prefix(512).firstRange(of: marker)?.upperBound else { return nil }
        var value = 0
        var index = start
        while index < body.count, index - start < 6, body[index] >= 0x30 && body[index] <= 0x39 {
            value = value * 10 + Int(body[index] - 0x30)
            index += 1
        }
        return index > start ? value : nil
    }

    private static func looksLikeError(_ body: [UInt8]) -> Bool {
        body.contains { $0 > 0x20 } && body.prefix(512).firstRange(of: Array("Exception".utf8)) != nil
    }
}

extension ClickHouseOptions: HTTPFormatMaking {
    func makeFormat(shape: RecordShape) -> any HTTPFormat { ClickHouseFormat(options: self) }
}
