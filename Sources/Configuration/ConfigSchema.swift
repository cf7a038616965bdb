import Records

/// Every configuration key, in the order `--help` and `--check-config` show them.
package enum ConfigSchema {
    package static var settings: [ConfigSetting] {
        [
            inputPath,
            inputPaths,
            .stringList("input.exclude", \.input.exclude, "glob patterns matched against the whole path; a match is never opened"),
            .choice("input.read_from", \.input.readFrom, "where a first start (no checkpoint) begins"),
            .choice(
                "input.format", \.input.format,
                "json: each line a JSON object (others shipped with parse_error); text: each line becomes {\"message\": line}"),
            .integer(
                "input.max_line_bytes", \.input.maxLineBytes, 16...(1 << 30),
                "longer lines are cut and flagged \"truncated\""),
            .string(
                "input.checkpoint_path", \.input.checkpointPath, allowEmpty: true,
                "where the acknowledged offset is kept; empty disables checkpoints"),
            .integer(
                "input.max_open_files", \.input.maxOpenFiles, 1...1_048_576,
                "files open at once; further matches wait their turn"),
            .integer(
                "input.poll_interval_ms", \.input.pollIntervalMs, 10...60_000,
                "stat poll behind inotify"),
            .integer(
                "input.rotate_wait_ms", \.input.rotateWaitMs, 0...3_600_000,
                "how long a rotated file must be at EOF and unwritten before it is closed"),
            .integer(
                "input.checkpoint_interval_ms", \.input.checkpointIntervalMs, 10...3_600_000,
                "how often the checkpoint is written while running"),
            journald,
            .choice("enrich.mode", \.enrich.mode, "merge adds fields to the object; wrap nests it under \"raw\""),
            .string("enrich.host_field", \.enrich.hostField, allowEmpty: true, "key for the host name; empty leaves it out"),
            .string(
                "enrich.timestamp_field", \.enrich.timestampField, allowEmpty: true,
                "key for the processing time; empty leaves it out"),
            fileKey,
            fields,
            envFields,
            sinks,
            filters,
            .string("health.address", \.health.address, "address of the health server"),
            .integer("health.port", \.health.port, 0...65_535, "port of the health server; 0 disables it"),
            .integer(
                "health.stall_timeout_ms", \.health.stallTimeoutMs, 100...86_400_000,
                "/healthz fails when pending input has not moved for this long"),
            .integer(
                "health.sink_failure_timeout_ms", \.health.sinkFailureTimeoutMs, 100...86_400_000,
                "/healthz fails when a sink has been failing for this long"),
            .integer(
                "shutdown.drain_timeout_ms", \.shutdown.drainTimeoutMs, 0...3_600_000,
                "how long SIGTERM (in exec mode: the child's exit) may spend shipping what is left"),
            .stringList(
                "exec.command", \.exec.command,
                "run this program as a child and ship its stdout and stderr (usually given as: log-sidecar [flags] -- program args)"),
            .choice("exec.restart", \.exec.restart, "when the child is started again after it exits, with backoff from 1 s to 30 s"),
            stream(.stdout),
            stream(.stderr),
        ]
    }

    /// `exec.stdout`, `exec.stderr`: a stream's own format and multiline.
    static func stream(_ stream: ChildStream) -> ConfigSetting {
        ConfigSetting(
            path: "exec.\(stream.rawValue)",
            help:
                "the child's \(stream.rawValue): {\"format\": json or text, \"multiline\": {…}, \"parse\": {…}}; default: input.format, one line a record",
            apply: { config, value, key throws(ConfigError) in
                guard case .object(let members) = value else { throw ConfigError(key: key, "expected an object, got \(value.kindName)") }
                for member in members where !SourceSettings.keys.contains(member.key) {
                    throw ConfigError(key: key + "." + member.key, "unknown key; a stream has format, multiline and parse")
                }
                config.exec.streams[stream] = try SourceSettings(value, key: key)
            },
            fromText: { _, key throws(ConfigError) in throw ConfigError(key: key, "set in the config file only (an object)") },
            render: { config in config.exec.streams[stream].map { .object($0.rendered) } ?? .null }, fileOnly: true)
    }

    /// `input.journald`: the journal as an input, beside the files or alone.
    static let journald = ConfigSetting(
        path: "input.journald",
        help:
            "read the systemd journal: {\"units\": [\"app.service\"], \"matches\": [\"FIELD=value\"], \"priority\": \"info\", \"directory\": \"\", \"namespace\": \"\", \"fields\": \"all\"} ({} reads every entry; text form: that JSON)",
        apply: { config, value, key throws(ConfigError) in config.input.journald = try JournaldSettings(value, key: key) },
        fromText: { text, key throws(ConfigError) in
            do { return try JSONParser.parse(Array(text.utf8)) } catch { throw ConfigError(key: key, "expected a JSON object: \(error)") }
        },
        render: { $0.input.journald?.rendered ?? .null })

    /// The one-path shorthand; shown by `--check-config` while there is one path.
    static let inputPath = ConfigSetting(
        path: "input.path", help: "the file to follow (shorthand for input.paths with one entry)",
        apply: { config, value, key throws(ConfigError) in
            guard case .string(let text) = value, !text.isEmpty else { throw ConfigError(key: key, "expected a path, got \(value.serialized)") }
            config.input.paths = [text]
            config.input.pathKeysSet.insert("input.path")
        },
        fromText: { text, _ in .string(text) },
        render: { $0.input.paths.count == 1 && $0.input.pathSettings.isEmpty ? .string($0.input.paths[0]) : .null })

    static let inputPaths = ConfigSetting(
        path: "input.paths",
        help:
            "paths and glob patterns (*, ?, [...] in any component) to follow; in the file an entry may be {\"path\": …, \"format\": \"text\", \"multiline\": {…}, \"parse\": {\"type\": \"regex\" or \"logfmt\", …}} (text form: a,b)",
        apply: { config, value, key throws(ConfigError) in
            guard case .array(let items) = value else { throw ConfigError(key: key, "expected an array of paths, got \(value.kindName)") }
            guard !items.isEmpty else { throw ConfigError(key: key, "expected at least one path or pattern") }
            var paths: [String] = []
            var settings: [String: SourceSettings] = [:]
            for (index, item) in items.enumerated() {
                let itemKey = "\(key)[\(index)]"
                if case .object(let members) = item {
                    for member in members where member.key != "path" && !SourceSettings.keys.contains(member.key) {
                        throw ConfigError(key: itemKey + "." + member.key, "unknown key; an entry has path, format, multiline and parse")
                    }
                    let path = try ConfigSetting.nonEmptyString(item["path"] ?? .null, key: itemKey + ".path")
                    let entry = try SourceSettings(item, key: itemKey)
                    if !entry.isEmpty { settings[path] = entry }
                    paths.append(path)
                } else {
                    paths.append(try ConfigSetting.nonEmptyString(item, key: itemKey))
                }
            }
            config.input.paths = paths
            config.input.pathSettings = settings
            config.input.pathKeysSet.insert("input.paths")
        },
        fromText: ConfigSetting.commaList,
        render: { config in
            guard config.input.paths.count > 1 || !config.input.pathSettings.isEmpty else { return .null }
            return .array(
                config.input.paths.map { path in
                    guard let entry = config.input.pathSettings[path] else { return .string(path) }
                    return .object([("path", .string(path))] + entry.rendered)
                })
        })

    static let fileKey = ConfigSetting(
        path: "enrich.file_key",
        help: "key for the path a file was found under; default \"file\" when input.paths has a glob or several entries; empty leaves it out",
        apply: { config, value, key throws(ConfigError) in
            guard case .string(let text) = value else { throw ConfigError(key: key, "expected a string, got \(value.kindName) \(value.serialized)") }
            config.enrich.fileKey = text
        },
        fromText: { text, _ in .string(text) },
        render: { .string($0.effectiveFileKey) })

    static let fields = ConfigSetting(
        path: "enrich.fields", help: "static fields added to every record (text form: k=v,k2=v2)",
        apply: { config, value, key throws(ConfigError) in
            guard case .object(let members) = value else { throw ConfigError(key: key, "expected an object, got \(value.kindName)") }
            config.enrich.fields = members.map { EnrichConfig.Field(key: $0.key, value: $0.value) }
        },
        fromText: ConfigSetting.stringObject,
        render: { .object($0.enrich.fields.map { ($0.key, $0.value) }) })

    static let envFields = ConfigSetting(
        path: "enrich.env_fields", help: "fields read from environment variables at start (text form: key=VARIABLE,...)",
        apply: { config, value, key throws(ConfigError) in
            guard case .object(let members) = value else { throw ConfigError(key: key, "expected an object, got \(value.kindName)") }
            config.enrich.envFields = try members.map { member throws(ConfigError) in
                guard case .string(let variable) = member.value, !variable.isEmpty else {
                    throw ConfigError(key: key + "." + member.key, "expected the name of an environment variable, got \(member.value.serialized)")
                }
                return EnrichConfig.EnvField(key: member.key, variable: variable)
            }
        },
        fromText: ConfigSetting.stringObject,
        render: { .object($0.enrich.envFields.map { ($0.key, JSONValue.string($0.variable)) }) })

    static let sinks = ConfigSetting(
        path: "sinks", help: "where records go (text form: stdout,file:/path,journald,journald:identifier)",
        apply: { config, value, key throws(ConfigError) in
            guard case .array(let items) = value else { throw ConfigError(key: key, "expected an array, got \(value.kindName)") }
            config.sinks = try items.enumerated().map { (index, item) throws(ConfigError) in
                try SinkSchema.parse(item, key: "\(key)[\(index)]")
            }
            try SinkSchema.validate(config.sinks, key: key)
        },
        fromText: { text, key throws(ConfigError) in try SinkSchema.parseShortForm(text, key: key) },
        render: { .array($0.sinks.map(SinkSchema.render)) })

    static let filters = ConfigSetting(
        path: "filters",
        help: "drop, keep, remove, rename, redact, sample, throttle records before enrichment, in order (docs/filters.md)",
        apply: { config, value, key throws(ConfigError) in config.filters = try FilterSchema.parseList(value, key: key) },
        fromText: { _, key throws(ConfigError) in throw ConfigError(key: key, "filters are set in the config file only (a JSON list)") },
        render: { .array($0.filters.map(FilterSchema.render)) }, fileOnly: true)
}
