import Records

/// The `filters` list of the configuration file: each type accepts only the keys that mean something
/// to it, and every pattern is compiled at start, so a bad one stops start-up with its position.
package enum FilterSchema {
    private static let conditionKeys: Set<String> = ["field", "equals", "matches"]
    static let keysByKind: [FilterConfig.Kind: Set<String>] = [
        .drop: conditionKeys,
        .keep: conditionKeys,
        .remove: ["fields"],
        .rename: ["from", "to"],
        .redact: ["fields", "pattern", "replacement"],
        .sample: ["rate", "unless"],
        .throttle: ["per_second", "unless"],
    ]
    private static let kindNames = FilterConfig.Kind.allCases.map(\.rawValue).joined(separator: ", ")

    package static func parseList(_ value: JSONValue, key: String) throws(ConfigError) -> [FilterConfig] {
        guard case .array(let items) = value else { throw ConfigError(key: key, "expected an array of filters, got \(value.kindName)") }
        var filters: [FilterConfig] = []
        var names = Set<String>()
        for (index, item) in items.enumerated() {
            let filter = try parse(item, index: index, key: "\(key)[\(index)]")
            guard names.insert(filter.name).inserted else {
                throw ConfigError(key: "\(key)[\(index)].name", "\"\(filter.name)\" is used by two filters; give each a distinct name")
            }
            filters.append(filter)
        }
        return filters
    }

    static func parse(_ value: JSONValue, index: Int, key: String) throws(ConfigError) -> FilterConfig {
        guard case .object(let members) = value else { throw ConfigError(key: key, "expected an object, got \(value.kindName)") }
        guard let typeValue = value["type"] else { throw ConfigError(key: key + ".type", "missing; one of \(kindNames)") }
        guard case .string(let typeName) = typeValue, let kind = FilterConfig.Kind(rawValue: typeName) else {
            throw ConfigError(key: key + ".type", "expected one of \(kindNames), got \(typeValue.serialized)")
        }
        var filter = FilterConfig(kind: kind, name: "\(kind.rawValue)#\(index)")
        let allowed = (keysByKind[kind] ?? []).union(["type", "name"])
        for (name, _) in members where !allowed.contains(name) {
            throw ConfigError(key: key + "." + name, "unknown key for a \(kind.rawValue) filter; known: \(allowed.sorted().joined(separator: ", "))")
        }
        if let name = value["name"] { filter.name = try string(name, key: key + ".name") }
        switch kind {
        case .drop, .keep:
            filter.condition = try condition(value, key: key)
        case .remove:
            guard let fields = value["fields"] else { throw ConfigError(key: key + ".fields", "missing; the fields to remove") }
            filter.fields = try fieldList(fields, key: key + ".fields")
        case .rename:
            filter.from = try string(value["from"] ?? .null, key: key + ".from")
            filter.to = try string(value["to"] ?? .null, key: key + ".to")
            if filter.from == filter.to { throw ConfigError(key: key + ".to", "the same field as \"from\"") }
        case .redact:
            if let fields = value["fields"] { filter.fields = try fieldList(fields, key: key + ".fields") }
            if let pattern = value["pattern"] {
                filter.pattern = try string(pattern, key: key + ".pattern")
                try compile(filter.pattern ?? "", key: key + ".pattern")
            }
            if let replacement = value["replacement"] {
                guard case .string(let text) = replacement else {
                    throw ConfigError(key: key + ".replacement", "expected a string, got \(replacement.serialized)")
                }
                filter.replacement = text
            }
        case .sample:
            filter.rate = try ConfigSetting.integerValue(value["rate"] ?? .null, key: key + ".rate", range: 1...1_000_000_000)
            if let unless = value["unless"] { filter.condition = try nestedCondition(unless, key: key + ".unless") }
        case .throttle:
            filter.perSecond = try ConfigSetting.integerValue(value["per_second"] ?? .null, key: key + ".per_second", range: 1...1_000_000_000)
            if let unless = value["unless"] { filter.condition = try nestedCondition(unless, key: key + ".unless") }
        }
        return filter
    }

    private static func nestedCondition(_ value: JSONValue, key: String) throws(ConfigError) -> FilterConfig.Condition {
        guard case .object(let members) = value else { throw ConfigError(key: key, "expected an object with field and equals or matches, got \(value.kindName)") }
        for member in members where !conditionKeys.contains(member.key) {
            throw ConfigError(key: key + "." + member.key, "unknown key; a condition has field and equals or matches")
        }
        return try condition(value, key: key)
    }

    private static func condition(_ value: JSONValue, key: String) throws(ConfigError) -> FilterConfig.Condition {
        let field = try string(value["field"] ?? .null, key: key + ".field")
        switch (value["equals"], value["matches"]) {
        case (nil, nil): throw ConfigError(key: key + ".equals", "missing; give equals (a list of values) or matches (a pattern)")
        case (.some, .some): throw ConfigError(key: key + ".matches", "equals and matches are both set; use one")
        case (.some(let equals), nil):
            guard case .array(let items) = equals, !items.isEmpty else {
                throw ConfigError(key: key + ".equals", "expected a non-empty array of strings, numbers, booleans or null, got \(equals.serialized)")
            }
            for (index, item) in items.enumerated() {
                switch item {
                case .array, .object: throw ConfigError(key: "\(key).equals[\(index)]", "expected a string, number, boolean or null, got \(item.kindName)")
                default: break
                }
            }
            return FilterConfig.Condition(field: field, test: .equals(items))
        case (nil, .some(let matches)):
            let pattern = try string(matches, key: key + ".matches")
            try compile(pattern, key: key + ".matches")
            return FilterConfig.Condition(field: field, test: .matches(pattern))
        }
    }

    private static func compile(_ pattern: String, key: String) throws(ConfigError) {
        do {
            _ = try PCRERegex(pattern)
        } catch {
            throw ConfigError(key: key, "the pattern \(JSONValue.quoted(pattern)) does not compile: \(error)")
        }
    }

    private static func fieldList(_ value: JSONValue, key: String) throws(ConfigError) -> [String] {
        guard case .array(let items) = value, !items.isEmpty else {
            throw ConfigError(key: key, "expected a non-empty array of field names, got \(value.serialized)")
        }
        var fields: [String] = []
        for (index, item) in items.enumerated() { fields.append(try string(item, key: "\(key)[\(index)]")) }
        return fields
    }

    private static func string(_ value: JSONValue, key: String) throws(ConfigError) -> String {
        guard case .string(let text) = value, !text.isEmpty else {
            throw ConfigError(key: key, value == .null ? "missing; expected a non-empty string" : "expected a non-empty string, got \(value.serialized)")
        }
        return text
    }

    static func render(_ filter: FilterConfig) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("type", .string(filter.kind.rawValue)), ("name", .string(filter.name))]
        func condition(_ condition: FilterConfig.Condition) -> [(key: String, value: JSONValue)] {
            switch condition.test {
            case .equals(let values): return [("field", .string(condition.field)), ("equals", .array(values))]
            case .matches(let pattern): return [("field", .string(condition.field)), ("matches", .string(pattern))]
            }
        }
        switch filter.kind {
        case .drop, .keep:
            if let test = filter.condition { members += condition(test) }
        case .remove:
            members.append(("fields", .array((filter.fields ?? []).map(JSONValue.string))))
        case .rename:
            members += [("from", .string(filter.from)), ("to", .string(filter.to))]
        case .redact:
            if let fields = filter.fields { members.append(("fields", .array(fields.map(JSONValue.string)))) }
            if let pattern = filter.pattern { members.append(("pattern", .string(pattern))) }
            members.append(("replacement", .string(filter.replacement)))
        case .sample, .throttle:
            members.append(filter.kind == .sample ? ("rate", .number(String(filter.rate))) : ("per_second", .number(String(filter.perSecond))))
            if let unless = filter.condition { members.append(("unless", .object(condition(unless)))) }
        }
        return .object(members)
    }
}
