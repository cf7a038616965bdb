import Glibc
import Records

/// `input.journald`: which journal to read and which of its entries become records.
package struct JournaldSettings: Sendable, Equatable {
    /// Units as `journalctl -u` takes them; a name without a type is a `.service`.
    package var units: [String] = []
    /// `FIELD=value` as `journalctl FIELD=value` takes them: the same field OR'ed, different ones AND'ed.
    package var matches: [String] = []
    /// Keep entries at this level or more severe (0 emerg … 7 debug); nil keeps all.
    package var priority: Int?
    /// Journal files in this directory instead of the local journal (a host's `/var/log/journal`).
    package var directory = ""
    /// A journal namespace instead of the default one.
    package var namespace = ""
    /// The fields kept beside `message`, `level` and `time`; nil: every field.
    package var fields: [String]?

    package init() {}

    /// The journal's priorities by name, as `journalctl -p` names them, and the names records carry
    /// (the sinks' level mappings know these).
    package static let priorityNames = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
    package static let levelNames = ["emerg", "alert", "critical", "error", "warning", "notice", "info", "debug"]
    static let keys: Set<String> = ["units", "matches", "priority", "directory", "namespace", "fields"]

    init(_ value: JSONValue, key: String) throws(ConfigError) {
        guard case .object(let members) = value else { throw ConfigError(key: key, "expected an object, got \(value.kindName)") }
        for member in members where !Self.keys.contains(member.key) {
            throw ConfigError(key: key + "." + member.key, "unknown key; journald has units, matches, priority, directory, namespace and fields")
        }
        if let units = value["units"] {
            self.units = try ConfigSetting.stringList(units, key: key + ".units").enumerated().map { (index, unit) throws(ConfigError) in
                try Self.unitName(unit, key: "\(key).units[\(index)]")
            }
        }
        if let matches = value["matches"] {
            self.matches = try ConfigSetting.stringList(matches, key: key + ".matches")
            for (index, match) in self.matches.enumerated() { try Self.checkMatch(match, key: "\(key).matches[\(index)]") }
        }
        if let priority = value["priority"] { self.priority = try Self.priority(priority, key: key + ".priority") }
        if let directory = value["directory"] {
            guard case .string(let path) = directory, !path.utf8.contains(0) else {
                throw ConfigError(key: key + ".directory", "expected a path, got \(directory.serialized)")
            }
            if !path.isEmpty { try Self.checkDirectory(path, key: key + ".directory") }
            self.directory = path
        }
        if let namespace = value["namespace"] {
            guard case .string(let name) = namespace, !name.utf8.contains(0), !name.contains("/") else {
                throw ConfigError(key: key + ".namespace", "expected a namespace name, got \(namespace.serialized)")
            }
            self.namespace = name
        }
        if !directory.isEmpty && !namespace.isEmpty {
            throw ConfigError(key: key + ".namespace", "set directory or namespace, not both")
        }
        if let fields = value["fields"] {
            if case .string("all") = fields {
                self.fields = nil
            } else if case .array = fields {
                let names = try ConfigSetting.stringList(fields, key: key + ".fields")
                for (index, name) in names.enumerated() where !Self.isFieldName(name) {
                    throw ConfigError(key: "\(key).fields[\(index)]", "\(JSONValue.quoted(name)) is not a journal field name (A-Z, 0-9 and _)")
                }
                self.fields = names
            } else {
                throw ConfigError(key: key + ".fields", "expected \"all\" or an array of field names, got \(fields.serialized)")
            }
        }
    }

    /// `journalctl -u`'s name: a unit without a type suffix is a service.
    static func unitName(_ name: String, key: String) throws(ConfigError) -> String {
        guard !name.contains("/"), !name.contains(" "), !name.contains("=") else {
            throw ConfigError(key: key, "\(JSONValue.quoted(name)) is not a unit name")
        }
        return name.contains(".") ? name : name + ".service"
    }

    /// A journal field name: upper-case letters, digits and `_`, not starting with a digit, at most 64.
    package static func isFieldName(_ name: some StringProtocol) -> Bool {
        guard let first = name.utf8.first, first < UInt8(ascii: "0") || first > UInt8(ascii: "9"), name.utf8.count <= 64 else {
            return false
        }
        return name.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_")
        }
    }

    static func checkMatch(_ match: String, key: String) throws(ConfigError) {
        guard let equals = match.firstIndex(of: "="), isFieldName(match[..<equals]) else {
            throw ConfigError(key: key, "expected FIELD=value (FIELD of A-Z, 0-9 and _, as journalctl takes it), got \(JSONValue.quoted(match))")
        }
    }

    static func priority(_ value: JSONValue, key: String) throws(ConfigError) -> Int {
        let aliases = ["critical": 2, "error": 3, "warn": 4, "panic": 0]
        switch value {
        case .number(let text):
            if let number = Int(text), (0...7).contains(number) { return number }
        case .string(let text):
            if let number = Int(text), (0...7).contains(number) { return number }
            if let index = priorityNames.firstIndex(of: text) { return index }
            if let number = aliases[text] { return number }
        default: break
        }
        throw ConfigError(key: key, "expected emerg, alert, crit, err, warning, notice, info, debug or 0-7, got \(value.serialized)")
    }

    static func checkDirectory(_ path: String, key: String) throws(ConfigError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw ConfigError(key: key, "\(path): \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFDIR else { throw ConfigError(key: key, "\(path) is not a directory") }
    }

    var rendered: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("units", .array(units.map(JSONValue.string))), ("matches", .array(matches.map(JSONValue.string))),
        ]
        if let priority { members.append(("priority", .string(Self.priorityNames[priority]))) }
        members.append(("directory", .string(directory)))
        members.append(("namespace", .string(namespace)))
        members.append(("fields", fields.map { .array($0.map(JSONValue.string)) } ?? .string("all")))
        return .object(members)
    }
}
