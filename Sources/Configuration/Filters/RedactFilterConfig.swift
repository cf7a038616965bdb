import Records

/// `redact`: the `fields` (nil: every string of the record), whole or where `pattern` matches, become
/// `replacement`.
package struct RedactFilterConfig: FilterSettings, Equatable {
    package static let type = "redact"
    package static let keys: Set<String> = ["fields", "pattern", "replacement"]
    package var fields: [String]?
    /// nil replaces the whole value.
    package var pattern: String?
    package var replacement = "***"

    package init(_ object: JSONValue, key: String) throws(ConfigError) {
        if let fields = object["fields"] { self.fields = try FilterSchema.fieldList(fields, key: key + ".fields") }
        if let pattern = object["pattern"] {
            let text = try FilterSchema.string(pattern, key: key + ".pattern")
            try FilterSchema.compile(text, key: key + ".pattern")
            self.pattern = text
        }
        if let replacement = object["replacement"] {
            guard case .string(let text) = replacement else {
                throw ConfigError(key: key + ".replacement", "expected a string, got \(replacement.serialized)")
            }
            self.replacement = text
        }
    }

    package func render() -> [(key: String, value: JSONValue)] {
        var members: [(key: String, value: JSONValue)] = []
        if let fields { members.append(("fields", .array(fields.map(JSONValue.string)))) }
        if let pattern { members.append(("pattern", .string(pattern))) }
        members.append(("replacement", .string(replacement)))
        return members
    }
}
