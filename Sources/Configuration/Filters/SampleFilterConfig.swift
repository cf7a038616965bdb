import Records

/// `sample`: one record in `rate` passes; those matching `unless` all pass.
package struct SampleFilterConfig: FilterSettings, Equatable {
    package static let type = "sample"
    package static let keys: Set<String> = ["rate", "unless"]
    package var rate: Int
    package var unless: FilterCondition?

    package init(_ object: JSONValue, key: String) throws(ConfigError) {
        rate = try ConfigSetting.integerValue(object["rate"] ?? .null, key: key + ".rate", range: 1...1_000_000_000)
        if let unless = object["unless"] { self.unless = try FilterCondition(nested: unless, key: key + ".unless") }
    }

    package func render() -> [(key: String, value: JSONValue)] {
        [("rate", .number(String(rate)))] + (unless.map { [("unless", .object($0.render()))] } ?? [])
    }
}
