/// What the pipeline put into every record, for the formats that take records apart: OTLP makes its
/// resource of the enrichment fields and reads the processing time from its field; Loki and OTLP look
/// for the application's keys under `raw` in wrap mode.
package struct RecordShape {
    package var fields: [EnrichmentField] = []
    /// `enrich.host_field` (OTLP's `host.name`); empty when left out.
    package var hostKey = ""
    /// `enrich.mode` is `wrap`: the application's object is the value of `raw`.
    package var wrapped = false

    package init(fields: [EnrichmentField] = [], hostKey: String = "", wrapped: Bool = false) {
        (self.fields, self.hostKey, self.wrapped) = (fields, hostKey, wrapped)
    }

    var timestampKey: [UInt8]? { fields.first { $0.source == .time }?.key }
}
