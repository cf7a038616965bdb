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
    /// `health.sink_failure_timeout_ms`: how long a sink may fail before it is reported unhealthy.
    var failureTimeoutMs = HealthConfig().sinkFailureTimeoutMs
}

/// A kind of sink's configuration that builds the sink (in the sink's own file, so the configuration
/// types build without the sinks).
protocol SinkMaking {
    func makeSink(name: String, context: SinkContext) throws(SinkFailure) -> any Sink
}

/// Builds the configured sinks.
enum SinkFactory {
    static func make(_ config: SinkConfig, context: SinkContext) throws(SinkFailure) -> any Sink {
        guard let maker = config.settings as? any SinkMaking else {
            throw SinkFailure(accepted: 0, reason: "no sink is built for type \(config.type)")
        }
        return try maker.makeSink(name: config.name, context: context)
    }
}
