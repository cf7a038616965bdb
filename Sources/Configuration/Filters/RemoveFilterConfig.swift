import Records

/// `remove`: the `fields` to take out of every record.
package struct RemoveFilterConfig: FilterSettings, Equatable {
    package static let type = "remove"
    package static let keys: Set<String> = ["fields"]
    package var fields: [String]

    package init(_ object: JSONValue, key: String) throws(ConfigError) {
        guard let fields = object["fields"] else { throw ConfigError(key: key + ".fields", "missing; the fields to remove") }
        self.fields = try FilterSchema.fieldList(fields, key: key + ".fields")
    }

    package func render() -> [(key: String, value: JSONValue)] { [("fields", .array(fields.map(JSONValue.string)))] }
}
