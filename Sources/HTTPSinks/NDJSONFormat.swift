import Configuration
import Records

/// The records as they are, one per line: Vector's `http_server`, Fluent Bit's `http` input and most
/// stores' JSON ingest take this body.
struct NDJSONFormat: HTTPFormat {
    var contentType: String { "application/x-ndjson" }
    var bodyIsRecords: Bool { true }

    func requestURL(_ config: HTTPSinkConfig) -> String { config.url }
}

extension NDJSONOptions: HTTPFormatMaking {
    func makeFormat(shape: RecordShape) -> any HTTPFormat { NDJSONFormat() }
}
