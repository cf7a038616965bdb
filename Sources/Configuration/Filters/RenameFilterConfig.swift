import Records

/// `rename`: one field, `from` to `to`.
package struct RenameFilterConfig: FilterSettings, Equatable {
    package static let type = "rename"
    package static let keys: Set<String> = ["from", "to"]
    package var from: String
    package var to: String

    package init(_ object: JSONValue, key: String) throws(ConfigError) {
        from = try FilterSchema.string(object["from"] ?? .null, key: key + ".from")
        to = try FilterSchema.string(object["to"] ?? .null, key: key + ".to")
        if from == to { throw ConfigError(key: key + ".to", "the same field as \"from\"") }
    }

    package func render() -> [(key: String, value: JSONValue)] { [("from", .string(from)), ("to", .string(to))] }
}
