/// `"type": "stdout"`: no keys of its own.
public struct StdoutSinkConfig: SinkSettings, Equatable {
    public static let type = "stdout"
    public static let keys: Set<String> = []

    public init() {}

    public mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError) {}

    public func render() -> [(key: String, value: JSONValue)] { [] }
}

/// `"type": "file"`: appended to `path`, rotated at `max_bytes`, `max_files` kept.
public struct FileSinkConfig: SinkSettings, Equatable {
    public static let type = "file"
    public static let keys: Set<String> = ["path", "max_bytes", "max_files"]
    public var path = ""
    public var maxBytes = 104_857_600
    public var maxFiles = 5

    public init() {}

    public mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError) {
        switch name {
        case "path": path = try ConfigSetting.nonEmptyString(value, key: key)
        case "max_bytes": maxBytes = try ConfigSetting.integerValue(value, key: key, range: 4096...(1 << 40))
        case "max_files": maxFiles = try ConfigSetting.integerValue(value, key: key, range: 1...1000)
        default: break
        }
    }

    public func finish(key: String, given: Set<String>) throws(ConfigError) {
        if path.isEmpty { throw ConfigError(key: key + ".path", "a file sink needs a path") }
    }

    public func render() -> [(key: String, value: JSONValue)] {
        [("path", .string(path)), ("max_bytes", .number(String(maxBytes))), ("max_files", .number(String(maxFiles)))]
    }
}

/// `"type": "journald"`: one journal entry per record.
public struct JournaldSinkConfig: SinkSettings, Equatable {
    public static let type = "journald"
    public static let keys: Set<String> = ["identifier", "message_key", "level_key"]
    public var identifier = "log-sidecar"
    public var messageKey = "msg"
    public var levelKey = "level"

    public init() {}

    public mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError) {
        switch name {
        case "identifier": identifier = try ConfigSetting.nonEmptyString(value, key: key)
        case "message_key": messageKey = try ConfigSetting.nonEmptyString(value, key: key)
        case "level_key": levelKey = try ConfigSetting.nonEmptyString(value, key: key)
        default: break
        }
    }

    public func render() -> [(key: String, value: JSONValue)] {
        [("identifier", .string(identifier)), ("message_key", .string(messageKey)), ("level_key", .string(levelKey))]
    }
}
