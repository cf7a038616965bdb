/// The fields added to every record, encoded once at start: `"key":value` bytes ready to splice.
struct EnrichmentField {
    /// The key as plain UTF-8, to compare with the application's keys.
    let key: [UInt8]
    /// `"key":` as JSON.
    let quotedKey: [UInt8]
    /// The value as JSON; nil for the timestamp, which changes with every batch, and for the file's
    /// path, which changes with the file.
    let value: [UInt8]?
    /// Whether the value is the path of the file the line came from (`enrich.file_key`).
    let isFile: Bool

    init(key: String, value: [UInt8]?, isFile: Bool = false) {
        self.isFile = isFile
        self.key = Array(key.utf8)
        var quoted: [UInt8] = []
        JSONEscaper.appendQuoted(Array(key.utf8)[...], to: &quoted)
        quoted.append(UInt8(ascii: ":"))
        quotedKey = quoted
        self.value = value
    }
}
