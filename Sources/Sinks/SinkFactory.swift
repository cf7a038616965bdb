import Configuration
import Logging
import Records
import Telemetry

/// What a sink may need besides its own keys.
package struct SinkContext {
    package let counters: SinkCounters
    package let logger: Logger
    /// Where the checkpoint lives: files a sink keeps by default (dead letters) go beside it.
    package let checkpointPath: String
    /// The enrichment fields records carry (OTLP's resource is made of them).
    package let shape: RecordShape
    /// True once waiting must stop (the shutdown deadline passed).
    package let shouldGiveUp: () -> Bool
    /// `health.sink_failure_timeout_ms`: how long a sink may fail before it is reported unhealthy.
    package var failureTimeoutMs = HealthConfig().sinkFailureTimeoutMs

    package init(
        counters: SinkCounters, logger: Logger, checkpointPath: String, shape: RecordShape, shouldGiveUp: @escaping () -> Bool,
        failureTimeoutMs: Int = HealthConfig().sinkFailureTimeoutMs
    ) {
        self.counters = counters
        self.logger = logger
        self.checkpointPath = checkpointPath
        self.shape = shape
        self.shouldGiveUp = shouldGiveUp
        self.failureTimeoutMs = failureTimeoutMs
    }
}

/// A kind of sink's configuration that builds the sink (in the sink's own file, so the configuration
/// types build without the sinks).
package protocol SinkMaking {
    func makeSink(name: String, context: SinkContext) throws(SinkFailure) -> any Sink
}

/// Builds the configured sinks.
package enum SinkFactory {
    package static func make(_ config: SinkConfig, context: SinkContext) throws(SinkFailure) -> any Sink {
        guard let maker = config.settings as? any SinkMaking else {
            throw SinkFailure(accepted: 0, reason: "no sink is built for type \(config.type)")
        }
        return try maker.makeSink(name: config.name, context: context)
    }
}
