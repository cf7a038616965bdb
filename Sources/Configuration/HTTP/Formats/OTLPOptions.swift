import Records

/// OTLP's two encodings of the same messages.
package enum OTLPEncoding: String, Sendable, CaseIterable {
    case json, protobuf
}

/// `otlp`: the encoding, and the members that become the body, the severity and the time.
package struct OTLPOptions: HTTPFormatOptions, Equatable {
    package static let name = "otlp"
    package static let keys: Set<String> = ["encoding", "message_key", "level_key", "time_key", "time_format"]
    /// `json` (the contract's) or `protobuf`.
    package var encoding = OTLPEncoding.json
    /// Empty: `msg`, then `message`.
    package var messageKey = ""
    package var levelKey = "level"
    /// Empty: the first of `RecordTimeKeys.defaults`.
    package var timeKey = ""
    /// How the time member is written (`time_format`).
    package var timeFormat = TimeFormat.rfc3339

    package init() {}

    package mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError) {
        switch name {
        case "encoding":
            let text = try ConfigSetting.nonEmptyString(value, key: key)
            guard let encoding = OTLPEncoding(rawValue: text) else { throw ConfigError(key: key, "expected one of json, protobuf, got \"\(text)\"") }
            self.encoding = encoding
        // Empty: the default (`msg` then `message`; the first time key present), as `--check-config` prints it.
        case "message_key": messageKey = try HTTPSinkConfig.string(value, key: key)
        case "level_key": levelKey = try ConfigSetting.nonEmptyString(value, key: key)
        case "time_key": timeKey = try HTTPSinkConfig.string(value, key: key)
        case "time_format": timeFormat = try HTTPSinkConfig.timeFormat(value, key: key)
        default: break
        }
    }

    package func render() -> [(key: String, value: JSONValue)] {
        [
            ("encoding", .string(encoding.rawValue)), ("message_key", .string(messageKey)), ("level_key", .string(levelKey)),
            ("time_key", .string(timeKey)), ("time_format", .string(timeFormat.text)),
        ]
    }
}
