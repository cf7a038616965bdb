import Records

/// `throttle`: at most `per_second` records a second pass; those matching `unless` all pass.
package struct ThrottleFilterConfig: FilterSettings, Equatable {
    package static let type = "throttle"
    package static let keys: Set<String> = ["per_second", "unless"]
    package var perSecond: Int
    package var unless: FilterCondition?

    package init(_ object: JSONValue, key: String) throws(ConfigError) {
        perSecond = try ConfigSetting.integerValue(object["per_second"] ?? .null, key: key + ".per_second", range: 1...1_000_000_000)
        if let unless = object["unless"] { self.unless = try FilterCondition(nested: unless, key: key + ".unless") }
    }

    package func render() -> [(key: String, value: JSONValue)] {
        [("per_second", .number(String(perSecond)))] + (unless.map { [("unless", .object($0.render()))] } ?? [])
    }
}
