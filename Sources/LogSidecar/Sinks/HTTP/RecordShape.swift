/// What the pipeline put into every record, for the formats that take records apart: OTLP makes its
/// resource of the enrichment fields and reads the processing time from its field; Loki and OTLP look
/// for the application's keys under `raw` in wrap mode.
struct RecordShape {
    var fields: [EnrichmentField] = []
    /// `enrich.host_field` (OTLP's `host.name`); empty when left out.
    var hostKey = ""
    /// `enrich.mode` is `wrap`: the application's object is the value of `raw`.
    var wrapped = false

    var timestampKey: [UInt8]? { fields.first { $0.source == .time }?.key }
}
