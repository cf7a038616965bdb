import Glibc
import Logging

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

    static func build(config: EnrichConfig, hostName: String, environment: [String: String], logger: Logger) -> [EnrichmentField] {
        var fields: [EnrichmentField] = []
        func add(_ key: String, _ value: [UInt8]?) {
            // A later field never repeats a key an earlier one took: no key is emitted twice.
            guard !key.isEmpty, !fields.contains(where: { $0.key == Array(key.utf8) }) else { return }
            fields.append(EnrichmentField(key: key, value: value))
        }
        add(config.hostField, Array(JSONValue.quoted(hostName).utf8))
        add(config.timestampField, nil)
        for field in config.fields { add(field.key, Array(field.value.serialized.utf8)) }
        for field in config.envFields {
            guard let value = environment[field.variable] else {
                logger.warning(
                    "environment variable for an enrichment field is not set; the field is left out",
                    metadata: ["field": "\(field.key)", "variable": "\(field.variable)"])
                continue
            }
            add(field.key, Array(JSONValue.quoted(value).utf8))
        }
        return fields
    }

    /// `HOSTNAME` as Kubernetes sets it, else the kernel's host name.
    static func hostName(environment: [String: String]) -> String {
        if let name = environment["HOSTNAME"], !name.isEmpty { return name }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
