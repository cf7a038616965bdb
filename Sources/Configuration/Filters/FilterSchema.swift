import Records

/// The `filters` list of the configuration file: each type accepts only the keys that mean something
/// to it (`FilterKinds`), and every pattern is compiled at start, so a bad one stops start-up with its position.
package enum FilterSchema {
    static let commonKeys: Set<String> = ["type", "name"]

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
        guard let typeValue = value["type"] else { throw ConfigError(key: key + ".type", "missing; one of \(FilterKinds.names)") }
        guard case .string(let typeName) = typeValue, let kind = FilterKinds.named(typeName) else {
            throw ConfigError(key: key + ".type", "expected one of \(FilterKinds.names), got \(typeValue.serialized)")
        }
        let allowed = kind.keys.union(commonKeys)
        for (name, _) in members where !allowed.contains(name) {
            throw ConfigError(key: key + "." + name, "unknown key for a \(typeName) filter; known: \(allowed.sorted().joined(separator: ", "))")
        }
        let name = try value["name"].map { name throws(ConfigError) in try string(name, key: key + ".name") }
        return FilterConfig(try kind.init(value, key: key), name: name ?? "\(typeName)#\(index)")
    }

    static func render(_ filter: FilterConfig) -> JSONValue {
        .object([("type", .string(filter.type)), ("name", .string(filter.name))] + filter.settings.render())
    }

    // The checks the filter types share.

    static func compile(_ pattern: String, key: String) throws(ConfigError) {
        do {
            _ = try PCRERegex(pattern)
        } catch {
            throw ConfigError(key: key, "the pattern \(JSONValue.quoted(pattern)) does not compile: \(error)")
        }
    }

    static func fieldList(_ value: JSONValue, key: String) throws(ConfigError) -> [String] {
        guard case .array(let items) = value, !items.isEmpty else {
            throw ConfigError(key: key, "expected a non-empty array of field names, got \(value.serialized)")
        }
        var fields: [String] = []
        for (index, item) in items.enumerated() { fields.append(try string(item, key: "\(key)[\(index)]")) }
        return fields
    }

    static func string(_ value: JSONValue, key: String) throws(ConfigError) -> String {
        guard case .string(let text) = value, !text.isEmpty else {
            throw ConfigError(
                key: key, value == .null ? "missing; expected a non-empty string" : "expected a non-empty string, got \(value.serialized)")
        }
        return text
    }
}
