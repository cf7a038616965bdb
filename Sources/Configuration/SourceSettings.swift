import Records

/// What one input entry or exec stream says about its lines beyond the input's defaults: its format,
/// how its lines join into records and how a record's text becomes fields.
package struct SourceSettings: Sendable, Equatable {
    /// nil: `input.format`.
    package var format: InputFormat?
    package var multiline: MultilineConfig?
    package var parse: ParseRule?

    package init(format: InputFormat? = nil, multiline: MultilineConfig? = nil, parse: ParseRule? = nil) {
        (self.format, self.multiline, self.parse) = (format, multiline, parse)
    }

    static let keys: Set<String> = ["format", "multiline", "parse"]

    /// Reads the keys of `object` this type has (the caller refuses the others).
    init(_ object: JSONValue, key: String) throws(ConfigError) {
        if let format = object["format"] {
            guard case .string(let name) = format, let choice = InputFormat(rawValue: name) else {
                throw ConfigError(key: key + ".format", "expected json or text, got \(format.serialized)")
            }
            self.format = choice
        }
        if let multiline = object["multiline"] { self.multiline = try MultilineConfig(multiline, key: key + ".multiline") }
        if let parse = object["parse"] { self.parse = try Self.parseRule(parse, key: key + ".parse") }
    }

    /// `parse`: `{"type": "regex", "pattern": …}` (at least one named group) or `{"type": "logfmt"}`.
    static func parseRule(_ value: JSONValue, key: String) throws(ConfigError) -> ParseRule {
        guard case .object(let members) = value else { throw ConfigError(key: key, "expected an object, got \(value.kindName)") }
        let type = try ConfigSetting.nonEmptyString(value["type"] ?? .null, key: key + ".type")
        guard type == "regex" || type == "logfmt" else {
            throw ConfigError(key: key + ".type", "expected regex or logfmt, got \(JSONValue.quoted(type))")
        }
        let known: Set<String> = type == "regex" ? ["type", "pattern"] : ["type"]
        for member in members where !known.contains(member.key) {
            throw ConfigError(key: key + "." + member.key, "unknown key; \(type == "regex" ? "regex has type and pattern" : "logfmt has only type")")
        }
        if type == "logfmt" { return .logfmt }
        let pattern = try ConfigSetting.nonEmptyString(value["pattern"] ?? .null, key: key + ".pattern")
        do {
            _ = try LineParser(.regex(pattern))
        } catch {
            throw ConfigError(key: key + ".pattern", "the pattern \(JSONValue.quoted(pattern)) does not compile: \(error)")
        }
        return .regex(pattern)
    }

    /// Multiline joins lines of text: a JSON line is a record already.
    func check(inputFormat: InputFormat, key: String) throws(ConfigError) {
        if multiline != nil && (format ?? inputFormat) == .json {
            throw ConfigError(key: key + ".multiline", "only a text input joins lines; set \"format\": \"text\" (a JSON line is a record already)")
        }
    }

    var rendered: [(key: String, value: JSONValue)] {
        var members: [(key: String, value: JSONValue)] = []
        if let format { members.append(("format", .string(format.rawValue))) }
        if let multiline { members.append(("multiline", multiline.rendered)) }
        switch parse {
        case .regex(let pattern): members.append(("parse", .object([("type", .string("regex")), ("pattern", .string(pattern))])))
        case .logfmt: members.append(("parse", .object([("type", .string("logfmt"))])))
        case nil: break
        }
        return members
    }

    var isEmpty: Bool { format == nil && multiline == nil && parse == nil }
}

/// The runtimes whose traces a preset keeps whole.
package enum MultilinePreset: String, Sendable, CaseIterable {
    case java, python, go
}

/// `multiline`: which lines begin a record, and its limits.
package struct MultilineConfig: Sendable, Equatable {
    package enum Rule: Sendable, Equatable {
        case preset(MultilinePreset)
        /// A line that matches begins a record.
        case start(String)
        /// A line that matches continues the pending record.
        case continues(String)
    }

    package var rule: Rule
    package var maxLines = 1000
    /// nil: `input.max_line_bytes`.
    package var maxBytes: Int?
    package var timeoutMs = 1000

    package init(rule: Rule) { self.rule = rule }

    static let keys: Set<String> = ["preset", "start", "continue", "max_lines", "max_bytes", "timeout_ms"]

    init(_ value: JSONValue, key: String) throws(ConfigError) {
        guard case .object(let members) = value else { throw ConfigError(key: key, "expected an object, got \(value.kindName)") }
        for member in members where !Self.keys.contains(member.key) {
            throw ConfigError(key: key + "." + member.key, "unknown key; known: \(Self.keys.sorted().joined(separator: ", "))")
        }
        let given = ["preset", "start", "continue"].filter { value[$0] != nil }
        guard given.count == 1 else {
            throw ConfigError(
                key: key + "." + (given.dropFirst().first ?? "preset"),
                given.isEmpty
                    ? "missing; give one of preset (java, python, go), start or continue"
                    : "give one of preset, start and continue, not \(given.joined(separator: " and "))")
        }
        switch given[0] {
        case "preset":
            let presets = MultilinePreset.allCases.map(\.rawValue).joined(separator: ", ")
            guard case .string(let name) = value["preset"], let preset = MultilinePreset(rawValue: name) else {
                throw ConfigError(key: key + ".preset", "expected one of \(presets), got \((value["preset"] ?? .null).serialized)")
            }
            rule = .preset(preset)
        case "start":
            let pattern = try ConfigSetting.nonEmptyString(value["start"] ?? .null, key: key + ".start")
            try FilterSchema.compile(pattern, key: key + ".start")
            rule = .start(pattern)
        default:
            let pattern = try ConfigSetting.nonEmptyString(value["continue"] ?? .null, key: key + ".continue")
            try FilterSchema.compile(pattern, key: key + ".continue")
            rule = .continues(pattern)
        }
        if let lines = value["max_lines"] { maxLines = try ConfigSetting.integerValue(lines, key: key + ".max_lines", range: 2...1_000_000) }
        if let bytes = value["max_bytes"] { maxBytes = try ConfigSetting.integerValue(bytes, key: key + ".max_bytes", range: 16...(1 << 30)) }
        if let timeout = value["timeout_ms"] { timeoutMs = try ConfigSetting.integerValue(timeout, key: key + ".timeout_ms", range: 1...3_600_000) }
    }

    var rendered: JSONValue {
        var members: [(key: String, value: JSONValue)]
        switch rule {
        case .preset(let preset): members = [("preset", .string(preset.rawValue))]
        case .start(let pattern): members = [("start", .string(pattern))]
        case .continues(let pattern): members = [("continue", .string(pattern))]
        }
        members.append(("max_lines", .number(String(maxLines))))
        if let maxBytes { members.append(("max_bytes", .number(String(maxBytes)))) }
        members.append(("timeout_ms", .number(String(timeoutMs))))
        return .object(members)
    }
}
