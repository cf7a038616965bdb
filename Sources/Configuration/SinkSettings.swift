import Records

/// One kind of sink's configuration: its keys with their defaults, their checks, and how
/// `--check-config` prints them. A new kind of sink is its configuration type conforming to this (a
/// file of its own, so the configuration builds without the sink: the fuzzer), the sink's file with
/// `extension ItsConfig: SinkMaking`, and its line in `SinkKinds.all`.
package protocol SinkSettings: Sendable {
    /// The `type` that selects it.
    static var type: String { get }
    /// Its keys besides `type` and `name`.
    static var keys: Set<String> { get }
    /// Keys that decide what the others mean: set before the rest, wherever the object has them.
    static var keysSetFirst: [String] { get }
    /// The defaults.
    init()
    /// Sets one key (`key`: its path, for errors); `finish` checks what depends on several.
    mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError)
    /// `given`: the keys the sink's object holds.
    func finish(key: String, given: Set<String>) throws(ConfigError)
    func render() -> [(key: String, value: JSONValue)]
    func isEqual(to other: any SinkSettings) -> Bool
    static func condition(of key: String) -> (value: JSONValue?, when: String)?
    /// Other defaults of a key, where another key decides it, for the configuration reference.
    static func otherDefaults(of key: String) -> String?
}

extension SinkSettings where Self: Equatable {
    package func isEqual(to other: any SinkSettings) -> Bool { (other as? Self) == self }
}

extension SinkSettings {
    package func finish(key: String, given: Set<String>) throws(ConfigError) {}
    package static var keysSetFirst: [String] { [] }
    /// A key only some settings read, for the configuration reference: its default there, and when.
    package static func condition(of key: String) -> (value: JSONValue?, when: String)? { nil }
    package static func otherDefaults(of key: String) -> String? { nil }
}

/// Every kind of sink, by `type`.
enum SinkKinds {
    static let all: [any SinkSettings.Type] = [StdoutSinkConfig.self, FileSinkConfig.self, JournaldSinkConfig.self, HTTPSinkConfig.self]

    static func named(_ type: String) -> (any SinkSettings.Type)? { all.first { $0.type == type } }

    static var names: String { all.map { $0.type }.joined(separator: ", ") }
}
