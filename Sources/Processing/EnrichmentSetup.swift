import Configuration
import Glibc
import Logging
import Records

/// The enrichment fields a configuration asks for, resolved once at start from the environment
/// (apart from `EnrichmentField` itself so the enricher builds without the logging package: the fuzzer).
extension EnrichmentField {
    package static func build(
        config: EnrichConfig, fileKey: String = "", streamKey: String = "", hostName: String, environment: [String: String],
        logger: Logger
    ) -> [EnrichmentField] {
        var fields: [EnrichmentField] = []
        func add(_ key: String, _ value: [UInt8]?, source: Source? = nil) {
            // A later field never repeats a key an earlier one took: no key is emitted twice.
            guard !key.isEmpty, !fields.contains(where: { $0.key == Array(key.utf8) }) else { return }
            fields.append(EnrichmentField(key: key, value: value, source: source))
        }
        add(config.hostField, Array(JSONValue.quoted(hostName).utf8))
        add(config.timestampField, nil)
        add(fileKey, nil, source: .file)
        add(streamKey, nil, source: .stream)
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
    package static func hostName(environment: [String: String]) -> String {
        if let name = environment["HOSTNAME"], !name.isEmpty { return name }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
