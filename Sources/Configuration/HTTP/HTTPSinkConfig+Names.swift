import Records

/// The names a receiver has rules for, checked when the configuration is loaded (and used again by
/// the formats): Loki's label names and Elasticsearch's index names.
extension HTTPSinkConfig {
    /// Loki's label names: `[a-zA-Z_][a-zA-Z0-9_]*`; anything else becomes `_` (`k8s.pod` → `k8s_pod`).
    package static func lokiLabel(_ name: String) -> String {
        var out = ""
        for (index, scalar) in name.unicodeScalars.enumerated() {
            let letter = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || scalar == "_"
            let digit = scalar >= "0" && scalar <= "9"
            if index == 0 && digit { out.append("_") }
            out.unicodeScalars.append(letter || digit ? scalar : "_")
        }
        return out.isEmpty ? "_" : out
    }

    /// Lower case, none of `\ / * ? " < > | , #` or a space, not starting with `-`, `_` or `+`, with
    /// `%Y`, `%m` and `%d` the only `%` sequences (Elasticsearch's rules for an index name).
    static func elasticsearchIndex(_ value: JSONValue, key: String) throws(ConfigError) -> String {
        let text = try ConfigSetting.nonEmptyString(value, key: key)
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 1 < bytes.count, "Ymd".utf8.contains(bytes[index + 1]) else {
                    throw ConfigError(key: key, "only %Y, %m and %d may stand in an index name, in \"\(text)\"")
                }
                index += 2
                continue
            }
            if (byte >= 0x41 && byte <= 0x5A) || #"\/*?"<>|, #:"#.utf8.contains(byte) || byte < 0x20 {
                throw ConfigError(
                    key: key,
                    "an index name cannot hold \"\(String(decoding: [byte], as: UTF8.self))\" (lower case, no \\ / * ? \" < > | , # : or space)")
            }
            index += 1
        }
        if let first = bytes.first, "-_+".utf8.contains(first) { throw ConfigError(key: key, "an index name cannot start with -, _ or +") }
        guard bytes.count <= 255 else { throw ConfigError(key: key, "an index name is at most 255 bytes") }
        return text
    }
}
