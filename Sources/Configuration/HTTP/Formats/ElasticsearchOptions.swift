import Records

/// `elasticsearch`: the index, with `%Y`, `%m`, `%d` from the processing date (UTC).
package struct ElasticsearchOptions: HTTPFormatOptions, Equatable {
    package static let name = "elasticsearch"
    package static let keys: Set<String> = ["index"]
    package var index = "log-sidecar-%Y.%m.%d"

    package init() {}

    package mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError) {
        if name == "index" { index = try HTTPSinkConfig.elasticsearchIndex(value, key: key) }
    }

    package func render() -> [(key: String, value: JSONValue)] { [("index", .string(index))] }
}
