import Records

/// The keys of one sink object; each type accepts only the keys that mean something to it.
enum SinkSchema {
    static let commonKeys: Set<String> = ["type", "name"]

    static func parse(_ value: JSONValue, key: String) throws(ConfigError) -> SinkConfig {
        guard case .object(let members) = value else { throw ConfigError(key: key, "expected an object, got \(value.kindName)") }
        guard let typeValue = value["type"] else { throw ConfigError(key: key + ".type", "missing; one of \(SinkKinds.names)") }
        guard case .string(let typeName) = typeValue, let kind = SinkKinds.named(typeName) else {
            throw ConfigError(key: key + ".type", "expected one of \(SinkKinds.names), got \(typeValue.serialized)")
        }
        var settings = kind.init()
        var name: String?
        let allowed = commonKeys.union(kind.keys)
        let ordered = members.filter { kind.keysSetFirst.contains($0.key) } + members.filter { !kind.keysSetFirst.contains($0.key) }
        for (member, memberValue) in ordered {
            let memberKey = key + "." + member
            guard allowed.contains(member) else {
                throw ConfigError(key: memberKey, "unknown key for a \(typeName) sink; known: \(allowed.sorted().joined(separator: ", "))")
            }
            switch member {
            case "type": break
            case "name": name = try ConfigSetting.nonEmptyString(memberValue, key: memberKey)
            default: try settings.set(member, memberValue, key: memberKey)
            }
        }
        try settings.finish(key: key, given: Set(members.map(\.key)))
        return SinkConfig(settings, name: name)
    }

    static func validate(_ sinks: [SinkConfig], key: String) throws(ConfigError) {
        if sinks.isEmpty { throw ConfigError(key: key, "at least one sink is needed") }
        var names = Set<String>()
        for (index, sink) in sinks.enumerated() where !names.insert(sink.name).inserted {
            throw ConfigError(key: "\(key)[\(index)].name", "\"\(sink.name)\" is used by two sinks; give each a distinct name")
        }
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
        .object([("type", .string(sink.type)), ("name", .string(sink.name))] + sink.settings.render())
    }
}
