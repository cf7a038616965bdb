/// The fields added to every record, encoded once at start: `"key":value` bytes ready to splice.
package struct EnrichmentField {
    /// What the value depends on: nothing (`value`), the batch's time, the line's file or its stream.
    package enum Source { case fixed, time, file, stream }

    /// The key as plain UTF-8, to compare with the application's keys.
    package let key: [UInt8]
    /// `"key":` as JSON.
    package let quotedKey: [UInt8]
    /// The value as JSON for a fixed field; nil for the others, which the enricher fills in.
    package let value: [UInt8]?
    package let source: Source

    /// A nil `value` without a `source` is the timestamp.
    package init(key: String, value: [UInt8]?, source: Source? = nil) {
        self.source = source ?? (value == nil ? .time : .fixed)
        self.key = Array(key.utf8)
        var quoted: [UInt8] = []
        JSONEscaper.appendQuoted(Array(key.utf8)[...], to: &quoted)
        quoted.append(UInt8(ascii: ":"))
        quotedKey = quoted
        self.value = value
    }
}

extension EnrichmentField {
    /// Which fields an object already has is one bit each of a `UInt64`: the configuration allows no more.
    package static let maximumCount = 63
    /// The field exec mode gives each line of the child's output: "stdout" or "stderr".
    package static let streamKey = "stream"
}
