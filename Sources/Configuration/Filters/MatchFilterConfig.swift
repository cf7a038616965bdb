import Records

/// `drop`: the records that match `field` / `equals` or `matches` go.
package struct DropFilterConfig: FilterSettings, Equatable {
    package static let type = "drop"
    package static var keys: Set<String> { FilterCondition.keys }
    package var condition: FilterCondition

    package init(_ object: JSONValue, key: String) throws(ConfigError) { condition = try FilterCondition(object, key: key) }
    package func render() -> [(key: String, value: JSONValue)] { condition.render() }
}

/// `keep`: the records that do not match go.
package struct KeepFilterConfig: FilterSettings, Equatable {
    package static let type = "keep"
    package static var keys: Set<String> { FilterCondition.keys }
    package var condition: FilterCondition

    package init(_ object: JSONValue, key: String) throws(ConfigError) { condition = try FilterCondition(object, key: key) }
    package func render() -> [(key: String, value: JSONValue)] { condition.render() }
}
