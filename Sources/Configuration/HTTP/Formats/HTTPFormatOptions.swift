import Records

/// One HTTP format's own keys (`format`'s value selects it): how they are read, checked and printed.
/// A new format is its options type conforming to this (a file here), its `HTTPFormat` in
/// `HTTPSinks` with `extension ItsOptions: HTTPFormatMaking`, and its line in `HTTPFormatKinds.all`.
package protocol HTTPFormatOptions: Sendable {
    /// The `format` value that selects it.
    static var name: String { get }
    /// Its keys; set for another format, they stop start-up.
    static var keys: Set<String> { get }
    /// The defaults.
    init()
    /// Sets one of `keys` (`key`: its path, for errors).
    mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError)
    /// Checks what depends on several keys; `key` is the sink's path.
    func finish(key: String) throws(ConfigError)
    func render() -> [(key: String, value: JSONValue)]
    func isEqual(to other: any HTTPFormatOptions) -> Bool
    /// `batch_max_bytes` when the sink does not set it.
    static var defaultBatchMaxBytes: Int { get }
}

extension HTTPFormatOptions where Self: Equatable {
    package func isEqual(to other: any HTTPFormatOptions) -> Bool { (other as? Self) == self }
}

extension HTTPFormatOptions {
    package func finish(key: String) throws(ConfigError) {}
    package static var defaultBatchMaxBytes: Int { HTTPSinkConfig.batchMaxBytesDefault }
}

/// Every HTTP format, by `format`.
package enum HTTPFormatKinds {
    static let all: [any HTTPFormatOptions.Type] = [
        NDJSONOptions.self, ClickHouseOptions.self, OTLPOptions.self, LokiOptions.self, ElasticsearchOptions.self,
    ]

    static func named(_ name: String) -> (any HTTPFormatOptions.Type)? { all.first { $0.name == name } }

    static var names: String { all.map { $0.name }.joined(separator: ", ") }

    /// Every format's keys.
    static var keys: Set<String> { all.reduce(into: []) { $0.formUnion($1.keys) } }
}

/// The format an HTTP sink writes, with its options.
package struct HTTPFormatChoice: Sendable, Equatable {
    package var options: any HTTPFormatOptions

    package init(_ options: any HTTPFormatOptions) { self.options = options }

    package var name: String { Swift.type(of: options).name }

    package static func == (left: HTTPFormatChoice, right: HTTPFormatChoice) -> Bool { left.options.isEqual(to: right.options) }
}

/// `ndjson`: the records as they are, one per line; no keys of its own.
package struct NDJSONOptions: HTTPFormatOptions, Equatable {
    package static let name = "ndjson"
    package static let keys: Set<String> = []
    package init() {}
    package mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError) {}
    package func render() -> [(key: String, value: JSONValue)] { [] }
}
