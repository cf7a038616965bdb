import Records
import SystemSupport

/// Builds the effective configuration: defaults, then the JSON file, then `LOG_SIDECAR_*`
/// environment variables, then flags, each overriding the one before.
package enum ConfigLoader {
    /// `command`: what followed `--` on the command line, which overrides `exec.command`.
    package static func load(
        file: String?, environment: [String: String], flags: [String], command: [String] = []
    ) throws(ConfigError) -> Config {
        var config = Config()
        let settings = ConfigSchema.settings
        if let file { try applyFile(file, to: &config, settings: settings) }
        for setting in settings {
            if let text = environment[setting.environmentVariable] {
                try setting.apply(&config, try setting.fromText(text, setting.environmentVariable), setting.environmentVariable)
            }
        }
        for (setting, text, flag) in try parseFlags(flags, settings: settings) {
            try setting.apply(&config, try setting.fromText(text, flag), flag)
        }
        if !command.isEmpty { config.exec.command = command }
        try validate(config)
        config.settleExecInputs()
        return config
    }

    /// Rules that span keys, checked once every source has been applied.
    package static func validate(_ config: Config) throws(ConfigError) {
        if config.input.pathKeysSet.count > 1 {
            throw ConfigError(key: "input.paths", "input.path and input.paths are both set; use one (input.path is the one-path shorthand)")
        }
        for (index, path) in config.input.paths.enumerated() {
            try config.input.pathSettings[path]?.check(inputFormat: config.input.format, key: "input.paths[\(index)]")
        }
        for stream in ChildStream.allCases {
            try config.exec.streams[stream]?.check(inputFormat: config.input.format, key: "exec.\(stream.rawValue)")
        }
        if config.input.journald != nil && config.exec.isEnabled {
            // Exec mode reaps every child of ours, the journal reader too: one role per process.
            throw ConfigError(key: "input.journald", "not with exec.command; run a second log-sidecar to read the journal")
        }
        if config.exec.isEnabled {
            let taken =
                [
                    ("enrich.host_field", config.enrich.hostField), ("enrich.timestamp_field", config.enrich.timestampField),
                    ("enrich.file_key", config.effectiveFileKey),
                ]
                + config.enrich.fields.map { ("enrich.fields." + $0.key, $0.key) }
                + config.enrich.envFields.map { ("enrich.env_fields." + $0.key, $0.key) }
            if let clash = taken.first(where: { $0.1 == EnrichmentField.streamKey }) {
                throw ConfigError(
                    key: clash.0, "\"\(EnrichmentField.streamKey)\" is the field exec mode gives every record (stdout or stderr); choose another key")
            }
        }
        let fields = config.enrich.fields.count + config.enrich.envFields.count
        // Host, timestamp, file and stream take four of the enricher's bits.
        if fields > EnrichmentField.maximumCount - 4 {
            throw ConfigError(
                key: "enrich.fields",
                "\(fields) static and environment fields; at most \(EnrichmentField.maximumCount - 4) together (with host, timestamp, file and stream, \(EnrichmentField.maximumCount))"
            )
        }
    }

    /// The effective configuration as JSON, in the config file's own shape.
    package static func render(_ config: Config) -> JSONValue {
        var sections: [(key: String, value: JSONValue)] = []
        for setting in ConfigSchema.settings {
            let parts = setting.path.split(separator: ".", maxSplits: 1).map(String.init)
            let value = setting.render(config)
            // Of two spellings of one thing (input.path, input.paths) only the one that applies is shown.
            if value == .null { continue }
            if parts.count == 1 {
                sections.append((parts[0], value))
            } else if let index = sections.firstIndex(where: { $0.key == parts[0] }), case .object(var members) = sections[index].value {
                members.append((parts[1], value))
                sections[index].value = .object(members)
            } else {
                sections.append((parts[0], .object([(parts[1], value)])))
            }
        }
        return .object(sections)
    }

    static func applyFile(_ path: String, to config: inout Config, settings: [ConfigSetting]) throws(ConfigError) {
        let bytes: [UInt8]
        do { bytes = try FileIO.readFile(path) } catch { throw ConfigError(key: path, "cannot read the config file: \(error)") }
        try applyDocument(bytes, from: path, to: &config, settings: settings)
    }

    /// The config file's content, `path` naming it in errors.
    package static func applyDocument(_ bytes: [UInt8], from path: String, to config: inout Config, settings: [ConfigSetting]) throws(ConfigError) {
        let document: JSONValue
        do { document = try JSONParser.parse(bytes) } catch { throw ConfigError(key: path, "not valid JSON: \(error)") }
        guard case .object(let sections) = document else { throw ConfigError(key: path, "the top level must be an object") }
        let byPath = Dictionary(uniqueKeysWithValues: settings.map { ($0.path, $0) })
        for (sectionName, sectionValue) in sections {
            if let setting = byPath[sectionName] {
                try setting.apply(&config, sectionValue, sectionName)
                continue
            }
            let sectionKnown = settings.contains { $0.path.hasPrefix(sectionName + ".") }
            guard sectionKnown else {
                var sectionNames: [String] = []
                for setting in settings {
                    let name = String(setting.path.prefix { $0 != "." })
                    if !sectionNames.contains(name) { sectionNames.append(name) }
                }
                throw ConfigError(key: sectionName, "unknown key; known: \(sectionNames.joined(separator: ", "))")
            }
            guard case .object(let members) = sectionValue else {
                throw ConfigError(key: sectionName, "expected an object, got \(sectionValue.kindName)")
            }
            for (name, value) in members {
                let keyPath = sectionName + "." + name
                guard let setting = byPath[keyPath] else {
                    let known = settings.filter { $0.path.hasPrefix(sectionName + ".") }.map { String($0.path.dropFirst(sectionName.count + 1)) }
                    throw ConfigError(key: keyPath, "unknown key; known in \(sectionName): \(known.joined(separator: ", "))")
                }
                try setting.apply(&config, value, keyPath)
            }
        }
    }

    /// `--input-path X` and `--input-path=X`, each matched to its setting.
    static func parseFlags(_ arguments: [String], settings: [ConfigSetting]) throws(ConfigError) -> [(ConfigSetting, String, String)] {
        let byFlag = Dictionary(uniqueKeysWithValues: settings.map { ($0.flag, $0) })
        var result: [(ConfigSetting, String, String)] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            var flag = argument
            var value: String?
            if let equals = argument.firstIndex(of: "=") {
                flag = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard let setting = byFlag[flag] else {
                throw ConfigError(key: flag.isEmpty ? "\"\(argument)\"" : flag, "unknown option; see --help")
            }
            if value == nil {
                index += 1
                guard index < arguments.count else { throw ConfigError(key: flag, "needs a value") }
                value = arguments[index]
            }
            result.append((setting, value!, flag))
            index += 1
        }
        return result
    }
}
