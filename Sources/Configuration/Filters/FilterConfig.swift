import Records

/// One kind of filter's configuration: its keys, how they are read and checked, and how
/// `--check-config` prints them. A new filter type is its configuration type conforming to this (a
/// file of its own here, so the configuration builds without the filters: the fuzzer), the filter's
/// file in `Filters` with `extension ItsConfig: FilterMaking`, and its line in `FilterKinds.all`.
package protocol FilterSettings: Sendable {
    /// The `type` that selects it.
    static var type: String { get }
    /// Its keys besides `type` and `name`.
    static var keys: Set<String> { get }
    /// Reads its keys from the filter's object, which holds no others; `key` is the object's path.
    init(_ object: JSONValue, key: String) throws(ConfigError)
    func render() -> [(key: String, value: JSONValue)]
    func isEqual(to other: any FilterSettings) -> Bool
}

extension FilterSettings where Self: Equatable {
    package func isEqual(to other: any FilterSettings) -> Bool { (other as? Self) == self }
}

/// Every filter type, by `type`.
enum FilterKinds {
    static let all: [any FilterSettings.Type] = [
        DropFilterConfig.self, KeepFilterConfig.self, RemoveFilterConfig.self, RenameFilterConfig.self, RedactFilterConfig.self,
        SampleFilterConfig.self, ThrottleFilterConfig.self,
    ]

    static func named(_ type: String) -> (any FilterSettings.Type)? { all.first { $0.type == type } }

    static var names: String { all.map { $0.type }.joined(separator: ", ") }
}

/// One entry of the `filters` list as the configuration file gives it, validated (a pattern compiles).
package struct FilterConfig: Sendable, Equatable {
    /// Counters and messages use it; `<type>#<index>` unless the file names it.
    package var name: String
    package var settings: any FilterSettings

    package var type: String { Swift.type(of: settings).type }

    package init(_ settings: any FilterSettings, name: String) {
        self.settings = settings
        self.name = name
    }

    package static func == (left: FilterConfig, right: FilterConfig) -> Bool {
        left.name == right.name && left.settings.isEqual(to: right.settings)
    }
}

/// `field` tested against `equals` (JSON scalars) or `matches` (a PCRE2 pattern): what `drop` and
/// `keep` apply to, and what `sample` and `throttle` let through (`unless`).
package struct FilterCondition: Sendable, Equatable {
    package enum Test: Sendable, Equatable {
        case equals([JSONValue])
        case matches(String)
    }
    package var field: String
    package var test: Test

    static let keys: Set<String> = ["field", "equals", "matches"]

    /// Reads `field` and `equals` or `matches` from `value`.
    init(_ value: JSONValue, key: String) throws(ConfigError) {
        field = try FilterSchema.string(value["field"] ?? .null, key: key + ".field")
        switch (value["equals"], value["matches"]) {
        case (nil, nil): throw ConfigError(key: key + ".equals", "missing; give equals (a list of values) or matches (a pattern)")
        case (.some, .some): throw ConfigError(key: key + ".matches", "equals and matches are both set; use one")
        case (.some(let equals), nil):
            guard case .array(let items) = equals, !items.isEmpty else {
                throw ConfigError(key: key + ".equals", "expected a non-empty array of strings, numbers, booleans or null, got \(equals.serialized)")
            }
            for (index, item) in items.enumerated() {
                switch item {
                case .array, .object:
                    throw ConfigError(key: "\(key).equals[\(index)]", "expected a string, number, boolean or null, got \(item.kindName)")
                default: break
                }
            }
            test = .equals(items)
        case (nil, .some(let matches)):
            let pattern = try FilterSchema.string(matches, key: key + ".matches")
            try FilterSchema.compile(pattern, key: key + ".matches")
            test = .matches(pattern)
        }
    }

    /// An `unless` object: only the condition's keys.
    init(nested value: JSONValue, key: String) throws(ConfigError) {
        guard case .object(let members) = value else {
            throw ConfigError(key: key, "expected an object with field and equals or matches, got \(value.kindName)")
        }
        for member in members where !Self.keys.contains(member.key) {
            throw ConfigError(key: key + "." + member.key, "unknown key; a condition has field and equals or matches")
        }
        try self.init(value, key: key)
    }

    func render() -> [(key: String, value: JSONValue)] {
        switch test {
        case .equals(let values): return [("field", .string(field)), ("equals", .array(values))]
        case .matches(let pattern): return [("field", .string(field)), ("matches", .string(pattern))]
        }
    }
}
