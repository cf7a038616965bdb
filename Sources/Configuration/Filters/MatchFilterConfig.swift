import Records

/// What `drop` and `keep` share: a condition is all they have.
package protocol MatchFilterSettings: FilterSettings, Equatable {
    var condition: FilterCondition { get }
    init(condition: FilterCondition)
}

extension MatchFilterSettings {
    package static var keys: Set<String> { FilterCondition.keys }
    package init(_ object: JSONValue, key: String) throws(ConfigError) { self.init(condition: try FilterCondition(object, key: key)) }
    package func render() -> [(key: String, value: JSONValue)] { condition.render() }
}

/// `drop`: the records that match `field` / `equals` or `matches` go.
package struct DropFilterConfig: MatchFilterSettings {
    package static let type = "drop"
    package let condition: FilterCondition
    package init(condition: FilterCondition) { self.condition = condition }
}

/// `keep`: the records that do not match go.
package struct KeepFilterConfig: MatchFilterSettings {
    package static let type = "keep"
    package let condition: FilterCondition
    package init(condition: FilterCondition) { self.condition = condition }
}
