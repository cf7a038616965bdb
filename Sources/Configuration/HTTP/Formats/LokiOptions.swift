import Records

/// `loki`: static labels, the record fields whose values label a stream, and the time.
package struct LokiOptions: HTTPFormatOptions, Equatable {
    package static let name = "loki"
    package static let keys: Set<String> = ["time_key", "time_format", "labels", "label_fields"]
    /// Empty: the first of `RecordTimeKeys.defaults`.
    package var timeKey = ""
    /// How the time member is written (`time_format`).
    package var timeFormat = TimeFormat.rfc3339
    package var labels: [HTTPSinkConfig.Header] = []
    package var labelFields: [String] = []

    package init() {}

    package mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError) {
        switch name {
        case "time_key": timeKey = try HTTPSinkConfig.string(value, key: key)
        case "time_format": timeFormat = try HTTPSinkConfig.timeFormat(value, key: key)
        case "labels":
            labels = try HTTPSinkConfig.headerPairs(value, key: key, names: "a Loki label name ([a-zA-Z_][a-zA-Z0-9_]*)") { name in
                HTTPSinkConfig.lokiLabel(name) == name
            }.map { HTTPSinkConfig.Header(name: $0.0, value: $0.1) }
        case "label_fields":
            guard case .array(let items) = value else {
                throw ConfigError(key: key, "expected an array of field names, got \(value.kindName)")
            }
            labelFields = try items.enumerated().map { (index, item) throws(ConfigError) in
                try ConfigSetting.nonEmptyString(item, key: "\(key)[\(index)]")
            }
        default: break
        }
    }

    package func render() -> [(key: String, value: JSONValue)] {
        [
            ("time_key", .string(timeKey)), ("time_format", .string(timeFormat.text)),
            ("labels", .object(labels.map { ($0.name, .string($0.value)) })),
            ("label_fields", .array(labelFields.map { .string($0) })),
        ]
    }
}
