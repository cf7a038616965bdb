import Records

/// One configuration key: how JSON, environment text and flag text set it, and how it prints.
/// A single table of these drives the config file, `LOG_SIDECAR_*` variables, flags and `--help`.
package struct ConfigSetting: Sendable {
    package let path: String
    package let help: String
    let apply: @Sendable (inout Config, JSONValue, String) throws(ConfigError) -> Void
    let fromText: @Sendable (String, String) throws(ConfigError) -> JSONValue
    package let render: @Sendable (Config) -> JSONValue
    /// Set in the config file only (a JSON list of objects): no flag or variable takes it.
    package var fileOnly = false

    /// `input.max_line_bytes` -> `--input-max-line-bytes`
    package var flag: String { "--" + path.replacingDots(with: "-").replacingUnderscores(with: "-") }
    /// `input.max_line_bytes` -> `LOG_SIDECAR_INPUT_MAX_LINE_BYTES`
    package var environmentVariable: String { "LOG_SIDECAR_" + path.replacingDots(with: "_").uppercased() }

    static func string(
        _ path: String, _ keyPath: any WritableKeyPath<Config, String> & Sendable, allowEmpty: Bool = false, _ help: String
    ) -> ConfigSetting {
        ConfigSetting(
            path: path, help: help,
            apply: { config, value, key throws(ConfigError) in
                guard case .string(let text) = value else {
                    throw ConfigError(key: key, "expected a string, got \(value.kindName) \(value.serialized)")
                }
                if !allowEmpty && text.isEmpty { throw ConfigError(key: key, "must not be empty") }
                config[keyPath: keyPath] = text
            },
            fromText: { text, _ in .string(text) },
            render: { .string($0[keyPath: keyPath]) })
    }

    static func integer(
        _ path: String, _ keyPath: any WritableKeyPath<Config, Int> & Sendable, _ range: ClosedRange<Int>, _ help: String
    ) -> ConfigSetting {
        ConfigSetting(
            path: path, help: help + " (\(range.lowerBound)...\(range.upperBound))",
            apply: { config, value, key throws(ConfigError) in
                config[keyPath: keyPath] = try integerValue(value, key: key, range: range)
            },
            fromText: { text, key throws(ConfigError) in
                guard Int(text) != nil else { throw ConfigError(key: key, "expected an integer, got \"\(text)\"") }
                return .number(text)
            },
            render: { .number(String($0[keyPath: keyPath])) })
    }

    static func choice<Choice: RawRepresentable & CaseIterable & Sendable>(
        _ path: String, _ keyPath: any WritableKeyPath<Config, Choice> & Sendable, _ help: String
    ) -> ConfigSetting where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue)
        return ConfigSetting(
            path: path, help: help + " (" + names.joined(separator: " | ") + ")",
            apply: { config, value, key throws(ConfigError) in
                guard case .string(let text) = value, let choice = Choice(rawValue: text) else {
                    throw ConfigError(key: key, "expected one of \(names.joined(separator: ", ")), got \(value.serialized)")
                }
                config[keyPath: keyPath] = choice
            },
            fromText: { text, _ in .string(text) },
            render: { .string($0[keyPath: keyPath].rawValue) })
    }

    static func stringList(
        _ path: String, _ keyPath: any WritableKeyPath<Config, [String]> & Sendable, _ help: String
    ) -> ConfigSetting {
        ConfigSetting(
            path: path, help: help + " (text form: a,b)",
            apply: { config, value, key throws(ConfigError) in config[keyPath: keyPath] = try stringList(value, key: key) },
            fromText: commaList,
            render: { .array($0[keyPath: keyPath].map(JSONValue.string)) })
    }

    /// An array of non-empty strings.
    static func stringList(_ value: JSONValue, key: String) throws(ConfigError) -> [String] {
        guard case .array(let items) = value else { throw ConfigError(key: key, "expected an array of strings, got \(value.kindName)") }
        var list: [String] = []
        for (index, item) in items.enumerated() { list.append(try nonEmptyString(item, key: "\(key)[\(index)]")) }
        return list
    }

    static func nonEmptyString(_ value: JSONValue, key: String) throws(ConfigError) -> String {
        guard case .string(let text) = value, !text.isEmpty, !text.utf8.contains(0) else {
            throw ConfigError(key: key, "expected a non-empty string, got \(value.serialized)")
        }
        return text
    }

    /// `a,b` as the array of strings it stands for.
    static let commaList: @Sendable (String, String) throws(ConfigError) -> JSONValue = { text, _ in
        .array(text.split(separator: ",", omittingEmptySubsequences: true).map { JSONValue.string(String($0)) })
    }

    static func integerValue(_ value: JSONValue, key: String, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard case .number(let text) = value else { throw ConfigError(key: key, "expected an integer, got \(value.kindName) \(value.serialized)") }
        guard let number = Int(text) else { throw ConfigError(key: key, "expected an integer, got \(text)") }
        guard range.contains(number) else {
            throw ConfigError(key: key, "\(number) is out of range (\(range.lowerBound)...\(range.upperBound))")
        }
        return number
    }

    /// `k=v,k2=v2` as the object of strings it stands for.
    static let stringObject: @Sendable (String, String) throws(ConfigError) -> JSONValue = { text, key throws(ConfigError) in
        .object(try pairs(text, key: key).map { ($0.0, JSONValue.string($0.1)) })
    }

    /// Parses `k=v,k2=v2`, the text form of an object of strings.
    static func pairs(_ text: String, key: String) throws(ConfigError) -> [(String, String)] {
        var result: [(String, String)] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ConfigError(key: key, "expected key=value pairs separated by commas, got \"\(item)\"")
            }
            result.append((String(item[..<equals]), String(item[item.index(after: equals)...])))
        }
        return result
    }
}

extension String {
    func replacingDots(with replacement: String) -> String {
        split(separator: ".", omittingEmptySubsequences: false).joined(separator: replacement)
    }

    func replacingUnderscores(with replacement: String) -> String {
        split(separator: "_", omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
