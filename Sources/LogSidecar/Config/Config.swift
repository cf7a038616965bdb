/// The effective configuration. Every field has the default the design's contract gives,
/// so a config with only `input.path` (or `input.paths`) works.
public struct Config: Sendable, Equatable {
    public var input = InputConfig()
    public var enrich = EnrichConfig()
    public var sinks: [SinkConfig] = [SinkConfig(StdoutSinkConfig())]
    public var health = HealthConfig()
    public var shutdown = ShutdownConfig()
    public var exec = ExecConfig()
    /// Applied in order to each record before the enrichment fields; only the config file sets them.
    public var filters: [FilterConfig] = []

    public init() {}

    /// The configuration as it behaves: defaults that depend on other keys resolved, and which
    /// spelling set the paths forgotten. Two configurations that behave alike are equal resolved.
    public var resolved: Config {
        var config = self
        config.settleExecInputs()
        config.enrich.fileKey = effectiveFileKey
        config.input.pathKeysSet = []
        return config
    }

    /// Exec mode follows no file unless the configuration names one; with no file there is nothing a
    /// checkpoint could resume (a pipe cannot be read again).
    mutating func settleExecInputs() {
        guard exec.isEnabled && input.pathKeysSet.isEmpty else { return }
        input.paths = []
        input.checkpointPath = ""
    }

    /// `enrich.file_key` as it applies to this input.
    public var effectiveFileKey: String {
        enrich.fileKey ?? (input.paths.count > 1 || input.paths.contains { GlobPattern.hasWildcard($0) } ? "file" : "")
    }
}

public enum ReadFrom: String, Sendable, CaseIterable { case beginning, end }
public enum InputFormat: String, Sendable, CaseIterable { case json, text }
public enum EnrichMode: String, Sendable, CaseIterable { case merge, wrap }
public enum RestartPolicy: String, Sendable, CaseIterable {
    case never
    case onFailure = "on-failure"
    case always
}

public struct InputConfig: Sendable, Equatable {
    /// Paths and glob patterns; `input.path` is the one-path shorthand.
    public var paths = ["/var/log/app/app.log"]
    /// Entries of `paths` given as `{"path": …, "format": …}`: their files' format, instead of `format`.
    public var pathFormats: [String: InputFormat] = [:]
    /// Glob patterns matched against the whole path: a match is never opened.
    public var exclude: [String] = []
    /// At most this many files open at once; further matches wait their turn.
    public var maxOpenFiles = 1024
    /// Which of `input.path` and `input.paths` a source set: setting both is a configuration error.
    var pathKeysSet: Set<String> = []
    public var readFrom = ReadFrom.beginning
    /// `json`: each line is the application's JSON object; `text`: each line becomes `{"message": line}`.
    public var format = InputFormat.json
    public var maxLineBytes = 1_048_576
    public var checkpointPath = "/var/lib/log-sidecar/checkpoint.json"
    public var pollIntervalMs = 1000
    public var rotateWaitMs = 1000
    /// How often the acknowledged offset is written while running: bounds the duplicates after a crash.
    public var checkpointIntervalMs = 1000
}

public struct EnrichConfig: Sendable, Equatable {
    public var mode = EnrichMode.merge
    /// An empty name leaves that field out.
    public var hostField = "host"
    public var timestampField = "processed_at"
    public var fields: [Field] = []
    public var envFields: [EnvField] = []
    /// The field for the path a file was found under; nil: "file" when the input has a glob or several
    /// paths, left out otherwise; "" leaves it out.
    public var fileKey: String?

    public struct Field: Sendable, Equatable {
        public var key: String
        public var value: JSONValue
    }

    public struct EnvField: Sendable, Equatable {
        public var key: String
        public var variable: String
    }
}

/// One sink: its name and its kind's settings (`SinkSettings`).
public struct SinkConfig: Sendable, Equatable {
    public var name: String
    public var settings: any SinkSettings

    public init(_ settings: any SinkSettings, name: String? = nil) {
        self.settings = settings
        self.name = name ?? Swift.type(of: settings).type
    }

    public var type: String { Swift.type(of: settings).type }

    public static func == (lhs: SinkConfig, rhs: SinkConfig) -> Bool { lhs.name == rhs.name && lhs.settings.isEqual(to: rhs.settings) }
}

public struct HealthConfig: Sendable, Equatable {
    public var address = "0.0.0.0"
    /// 0 disables the health server.
    public var port = 9090
    /// /healthz fails when input is pending but nothing was shipped for this long.
    public var stallTimeoutMs = 30_000
    /// /healthz fails when a sink has been failing for this long.
    public var sinkFailureTimeoutMs = 60_000
}

public struct ShutdownConfig: Sendable, Equatable {
    public var drainTimeoutMs = 10_000
}

/// Exec mode: the application run as our child, its stdout and stderr shipped.
public struct ExecConfig: Sendable, Equatable {
    /// The program and its arguments; empty: no child, files only.
    public var command: [String] = []
    public var restart = RestartPolicy.never

    public var isEnabled: Bool { !command.isEmpty }
}
