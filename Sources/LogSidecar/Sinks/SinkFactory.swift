import Logging

/// What a sink may need besides its own keys.
struct SinkContext {
    let counters: SinkCounters
    let logger: Logger
    /// Where the checkpoint lives: files a sink keeps by default (dead letters) go beside it.
    let checkpointPath: String
    /// The enrichment fields records carry (OTLP's resource is made of them).
    let shape: RecordShape
    /// True once waiting must stop (the shutdown deadline passed).
    let shouldGiveUp: () -> Bool
}

/// Builds the configured sinks.
enum SinkFactory {
    static func make(_ config: SinkConfig, context: SinkContext) throws(SinkFailure) -> any Sink {
        switch config.type {
        case .stdout:
            return StdoutSink(name: config.name)
        case .file:
            return FileSink(name: config.name, path: config.path, maxBytes: config.maxBytes, maxFiles: config.maxFiles)
        case .journald:
            return JournaldSink(
                name: config.name, identifier: config.identifier, messageKey: config.messageKey, levelKey: config.levelKey)
        case .http:
            return try HTTPSink(
                name: config.name, config: config.http, deadLetterPath: deadLetterPath(config, context: context),
                shape: context.shape, counters: context.counters, logger: context.logger, shouldGiveUp: context.shouldGiveUp)
        }
    }

    /// `dead_letter_path`, or `dead-letter-<name>.jsonl` beside the checkpoint (or in the default
    /// checkpoint's directory when there is no checkpoint).
    static func deadLetterPath(_ config: SinkConfig, context: SinkContext) -> String {
        if !config.http.deadLetterPath.isEmpty { return config.http.deadLetterPath }
        let checkpoint = context.checkpointPath.isEmpty ? InputConfig().checkpointPath : context.checkpointPath
        return Path.directory(of: checkpoint) + "/dead-letter-\(config.name).jsonl"
    }
}
