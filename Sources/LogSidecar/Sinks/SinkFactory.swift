/// Builds the configured sinks.
enum SinkFactory {
    static func make(_ config: SinkConfig) -> any Sink {
        switch config.type {
        case .stdout:
            return StdoutSink(name: config.name)
        case .file:
            return FileSink(name: config.name, path: config.path, maxBytes: config.maxBytes, maxFiles: config.maxFiles)
        case .journald:
            return JournaldSink(
                name: config.name, identifier: config.identifier, messageKey: config.messageKey, levelKey: config.levelKey)
        }
    }
}
