import Records

/// The effective configuration. Every field has the default the design's contract gives,
/// so a config with only `input.path` (or `input.paths`) works.
package struct Config: Sendable, Equatable {
    package var input = InputConfig()
    package var enrich = EnrichConfig()
    package var sinks: [SinkConfig] = [SinkConfig(StdoutSinkConfig())]
    package var health = HealthConfig()
    package var shutdown = ShutdownConfig()
    package var exec = ExecConfig()
    /// Applied in order to each record before the enrichment fields; only the config file sets them.
    package var filters: [FilterConfig] = []

    package init() {}

    /// The configuration as it behaves: defaults that depend on other keys resolved, and which
    /// spelling set the paths forgotten. Two configurations that behave alike are equal resolved.
    package var resolved: Config {
        var config = self
        config.settleExecInputs()
        config.enrich.fileKey = effectiveFileKey
        config.input.pathKeysSet = []
        return config
    }

    /// Exec mode and the journal follow no file unless the configuration names one. With neither a
    /// file nor the journal there is nothing a checkpoint could resume (a pipe cannot be read again).
    mutating func settleExecInputs() {
        guard (exec.isEnabled || input.journald != nil) && input.pathKeysSet.isEmpty else { return }
        input.paths = []
        if input.journald == nil { input.checkpointPath = "" }
    }

    /// `enrich.file_key` as it applies to this input.
    package var effectiveFileKey: String {
        enrich.fileKey ?? (input.paths.count > 1 || input.paths.contains { GlobPattern.hasWildcard($0) } ? "file" : "")
    }
}

package enum ReadFrom: String, Sendable, CaseIterable { case beginning, end }
package enum EnrichMode: String, Sendable, CaseIterable { case merge, wrap }
package enum RestartPolicy: String, Sendable, CaseIterable {
    case never
    case onFailure = "on-failure"
    case always
}

package struct InputConfig: Sendable, Equatable {
    package init() {}

    /// Paths and glob patterns; `input.path` is the one-path shorthand.
    package var paths = ["/var/log/app/app.log"]
    /// Entries of `paths` given as objects (`{"path": …, "format": …, "multiline": …}`): what they set
    /// for their files instead of the input's defaults.
    package var pathSettings: [String: SourceSettings] = [:]
    /// The journal as an input (`input.journald`); nil: not read.
    package var journald: JournaldSettings?
    /// Glob patterns matched against the whole path: a match is never opened.
    package var exclude: [String] = []
    /// At most this many files open at once; further matches wait their turn.
    package var maxOpenFiles = 1024
    /// Which of `input.path` and `input.paths` a source set: setting both is a configuration error.
    var pathKeysSet: Set<String> = []
    package var readFrom = ReadFrom.beginning
    /// `json`: each line is the application's JSON object; `text`: each line becomes `{"message": line}`.
    package var format = InputFormat.json
    package var maxLineBytes = 1_048_576
    package var checkpointPath = "/var/lib/log-sidecar/checkpoint.json"
    package var pollIntervalMs = 1000
    package var rotateWaitMs = 1000
    /// How often the acknowledged offset is written while running: bounds the duplicates after a crash.
    package var checkpointIntervalMs = 1000
}

package struct EnrichConfig: Sendable, Equatable {
    package init() {}

    package var mode = EnrichMode.merge
    /// An empty name leaves that field out.
    package var hostField = "host"
    package var timestampField = "processed_at"
    package var fields: [Field] = []
    package var envFields: [EnvField] = []
    /// The field for the path a file was found under; nil: "file" when the input has a glob or several
    /// paths, left out otherwise; "" leaves it out.
    package var fileKey: String?

    package struct Field: Sendable, Equatable {
        package var key: String
        package var value: JSONValue
    }

    package struct EnvField: Sendable, Equatable {
        package var key: String
        package var variable: String
    }
}

/// One sink: its name and its kind's settings (`SinkSettings`).
package struct SinkConfig: Sendable, Equatable {
    package var name: String
    package var settings: any SinkSettings

    package init(_ settings: any SinkSettings, name: String? = nil) {
        self.settings = settings
        self.name = name ?? Swift.type(of: settings).type
    }

    package var type: String { Swift.type(of: settings).type }

    package static func == (lhs: SinkConfig, rhs: SinkConfig) -> Bool { lhs.name == rhs.name && lhs.settings.isEqual(to: rhs.settings) }
}

package struct HealthConfig: Sendable, Equatable {
    package init() {}

    package var address = "0.0.0.0"
    /// 0 disables the health server.
    package var port = 9090
    /// /healthz fails when input is pending but nothing was shipped for this long.
    package var stallTimeoutMs = 30_000
    /// /healthz fails when a sink has been failing for this long.
    package var sinkFailureTimeoutMs = 60_000
}

package struct ShutdownConfig: Sendable, Equatable {
    package init() {}

    package var drainTimeoutMs = 10_000
}

/// Exec mode: the application run as our child, its stdout and stderr shipped.
package struct ExecConfig: Sendable, Equatable {
    package init() {}

    /// The program and its arguments; empty: no child, files only.
    package var command: [String] = []
    package var restart = RestartPolicy.never
    /// `exec.stdout` and `exec.stderr`: each stream's format and multiline, instead of the input's.
    package var streams: [ChildStream: SourceSettings] = [:]

    package var isEnabled: Bool { !command.isEmpty }
}
