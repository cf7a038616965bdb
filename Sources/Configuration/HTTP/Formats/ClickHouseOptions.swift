import Records

/// `clickhouse`: the table the records are inserted into.
package struct ClickHouseOptions: HTTPFormatOptions, Equatable {
    package static let name = "clickhouse"
    package static let keys: Set<String> = ["database", "table"]
    package var database = "default"
    package var table = ""

    package init() {}

    /// Larger batches than the other formats': every request is an INSERT, a part the server writes and
    /// merges again, and ClickHouse asks for 10,000 to 100,000 rows an insert. 1 MiB is about 4,500
    /// rows of 230 bytes; 4 MiB made the server's CPU a row a third to a half of what it spent on the
    /// same rows in 1 MiB inserts, at three times the rows a second, for 12 MiB more of our memory at
    /// the peak of a catch-up (Benchmarks/README.md, "ClickHouse: 4 MiB inserts").
    package static let defaultBatchMaxBytes = 4 << 20

    package mutating func set(_ name: String, _ value: JSONValue, key: String) throws(ConfigError) {
        switch name {
        case "database": database = try Self.identifier(value, key: key)
        case "table": table = try Self.identifier(value, key: key)
        default: break
        }
    }

    package func finish(key: String) throws(ConfigError) {
        if table.isEmpty { throw ConfigError(key: key + ".table", "the clickhouse format needs the table to insert into") }
    }

    package func render() -> [(key: String, value: JSONValue)] { [("database", .string(database)), ("table", .string(table))] }

    /// A ClickHouse database or table name: plain identifiers only, so no quoting can be escaped.
    private static func identifier(_ value: JSONValue, key: String) throws(ConfigError) -> String {
        let text = try ConfigSetting.nonEmptyString(value, key: key)
        let valid = text.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 >= 0x30 && $0 <= 0x39) || (($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A) }
        guard valid, text.utf8.first.map({ $0 < 0x30 || $0 > 0x39 }) == true else {
            throw ConfigError(key: key, "expected a name of letters, digits and _ not starting with a digit, got \"\(text)\"")
        }
        return text
    }
}
