/// The fields added to every record, encoded once at start: `"key":value` bytes ready to splice.
struct EnrichmentField {
    /// The key as plain UTF-8, to compare with the application's keys.
    let key: [UInt8]
    /// `"key":` as JSON.
    let quotedKey: [UInt8]
    /// The value as JSON; nil for the timestamp, which changes with every batch.
    let value: [UInt8]?

    init(key: String, value: [UInt8]?) {
        self.key = Array(key.utf8)
        var quoted: [UInt8] = []
        JSONEscaper.appendQuoted(Array(key.utf8)[...], to: &quoted)
        quoted.append(UInt8(ascii: ":"))
        quotedKey = quoted
        self.value = value
    }
}
