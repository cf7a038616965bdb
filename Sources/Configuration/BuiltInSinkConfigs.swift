import Records

/// `"type": "stdout"`: no keys of its own.
package struct StdoutSinkConfig: SinkSettings, Equatable {
    package static let type = "stdout"
    package static let keys: Set<String> = []

    package init() {}

    package mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError) {}

    package func render() -> [(key: String, value: JSONValue)] { [] }
}

/// `"type": "file"`: appended to `path`, rotated at `max_bytes`, `max_files` kept.
package struct FileSinkConfig: SinkSettings, Equatable {
    package static let type = "file"
    package static let keys: Set<String> = ["path", "max_bytes", "max_files"]
    package var path = ""
    package var maxBytes = 104_857_600
    package var maxFiles = 5

    package init() {}

    package mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError) {
        switch name {
        case "path": path = try ConfigSetting.nonEmptyString(value, key: key)
        case "max_bytes": maxBytes = try ConfigSetting.integerValue(value, key: key, range: 4096...(1 << 40))
        case "max_files": maxFiles = try ConfigSetting.integerValue(value, key: key, range: 1...1000)
        default: break
        }
    }

    package func finish(key: String, given: Set<String>) throws(ConfigError) {
        if path.isEmpty { throw ConfigError(key: key + ".path", "a file sink needs a path") }
    }

    package func render() -> [(key: String, value: JSONValue)] {
        [("path", .string(path)), ("max_bytes", .number(String(maxBytes))), ("max_files", .number(String(maxFiles)))]
    }
}

/// `"type": "journald"`: one journal entry per record.
package struct JournaldSinkConfig: SinkSettings, Equatable {
    package static let type = "journald"
    package static let keys: Set<String> = ["identifier", "message_key", "level_key"]
    package var identifier = "log-sidecar"
    package var messageKey = "msg"
    package var levelKey = "level"

    package init() {}

    package mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError) {
        switch name {
        case "identifier": identifier = try ConfigSetting.nonEmptyString(value, key: key)
        case "message_key": messageKey = try ConfigSetting.nonEmptyString(value, key: key)
        case "level_key": levelKey = try ConfigSetting.nonEmptyString(value, key: key)
        default: break
        }
    }

    package func render() -> [(key: String, value: JSONValue)] {
        [("identifier", .string(identifier)), ("message_key", .string(messageKey)), ("level_key", .string(levelKey))]
    }
}
