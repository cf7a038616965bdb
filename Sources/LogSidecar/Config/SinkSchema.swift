/// The keys of one sink object; each type accepts only the keys that mean something to it.
enum SinkSchema {
    static let commonKeys: Set<String> = ["type", "name"]
    static let keysByType: [SinkType: Set<String>] = [
        .stdout: [],
        .file: ["path", "max_bytes", "max_files"],
        .journald: ["identifier", "message_key", "level_key"],
        .http: HTTPSinkConfig.keys,
    ]

    static func parse(_ value: JSONValue, key: String) throws(ConfigError) -> SinkConfig {
        guard case .object(let members) = value else { throw ConfigError(key: key, "expected an object, got \(value.kindName)") }
        guard let typeValue = value["type"] else { throw ConfigError(key: key + ".type", "missing; one of stdout, file, journald, http") }
        guard case .string(let typeName) = typeValue, let type = SinkType(rawValue: typeName) else {
            throw ConfigError(key: key + ".type", "expected one of stdout, file, journald, http, got \(typeValue.serialized)")
        }
        var sink = SinkConfig(type: type)
        let allowed = commonKeys.union(keysByType[type] ?? [])
        for (name, member) in members {
            let memberKey = key + "." + name
            guard allowed.contains(name) else {
                throw ConfigError(key: memberKey, "unknown key for a \(type.rawValue) sink; known: \(allowed.sorted().joined(separator: ", "))")
            }
            switch name {
            case "type": break
            case "name": sink.name = try string(member, key: memberKey)
            case _ where type == .http: try sink.http.set(name, member, key: memberKey)
            case "path": sink.path = try string(member, key: memberKey)
            case "max_bytes": sink.maxBytes = try ConfigSetting.integerValue(member, key: memberKey, range: 4096...(1 << 40))
            case "max_files": sink.maxFiles = try ConfigSetting.integerValue(member, key: memberKey, range: 1...1000)
            case "identifier": sink.identifier = try string(member, key: memberKey)
            case "message_key": sink.messageKey = try string(member, key: memberKey)
            case "level_key": sink.levelKey = try string(member, key: memberKey)
            default: break
            }
        }
        if type == .file && sink.path.isEmpty { throw ConfigError(key: key + ".path", "a file sink needs a path") }
        if type == .http { try sink.http.finish(key: key, given: Set(members.map(\.key))) }
        return sink
    }

    static func validate(_ sinks: [SinkConfig], key: String) throws(ConfigError) {
        if sinks.isEmpty { throw ConfigError(key: key, "at least one sink is needed") }
        var names = Set<String>()
        for (index, sink) in sinks.enumerated() where !names.insert(sink.name).inserted {
            throw ConfigError(key: "\(key)[\(index)].name", "\"\(sink.name)\" is used by two sinks; give each a distinct name")
        }
    }

    private static func string(_ value: JSONValue, key: String) throws(ConfigError) -> String {
        guard case .string(let text) = value, !text.isEmpty else {
            throw ConfigError(key: key, "expected a non-empty string, got \(value.serialized)")
        }
        return text
    }

    /// `stdout,file:/path,journald[:identifier]` as the JSON array it stands for.
    static func parseShortForm(_ text: String, key: String) throws(ConfigError) -> JSONValue {
        var items: [JSONValue] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            let item = String(part)
            if item == "stdout" || item == "journald" {
                items.append(.object([("type", .string(item))]))
            } else if item.hasPrefix("file:"), item.count > 5 {
                items.append(.object([("type", .string("file")), ("path", .string(String(item.dropFirst(5))))]))
            } else if item.hasPrefix("journald:"), item.count > 9 {
                // A wrapped service's own name in the journal, without a config file (exec mode's units).
                items.append(.object([("type", .string("journald")), ("identifier", .string(String(item.dropFirst(9))))]))
            } else {
                throw ConfigError(key: key, "unknown sink \"\(item)\"; expected stdout, file:/path, journald or journald:identifier")
            }
        }
        return .array(items)
    }

    static func render(_ sink: SinkConfig) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("type", .string(sink.type.rawValue)), ("name", .string(sink.name))]
        switch sink.type {
        case .stdout: break
        case .file:
            members += [("path", .string(sink.path)), ("max_bytes", .number(String(sink.maxBytes))),
                        ("max_files", .number(String(sink.maxFiles)))]
        case .journald:
            members += [("identifier", .string(sink.identifier)), ("message_key", .string(sink.messageKey)),
                        ("level_key", .string(sink.levelKey))]
        case .http:
            members += sink.http.render()
        }
        return .object(members)
    }
}
