import Configuration
import Exec
import Filters
import Health
import Journal
import Logging
import Processing
import Records
import Sinks
import SystemSupport
import Tailing
import Telemetry

/// Wires the stages together from a configuration and runs them until a signal stops them.
package final class Daemon {
    package enum StartError: Error, CustomStringConvertible {
        case checkpoint(CheckpointError)
        case health(String)
        case system(SystemError)
        case config(ConfigError)
        /// A sink cannot be set up (libcurl missing for an HTTP sink).
        case sink(String)

        package var description: String {
            switch self {
            case .checkpoint(let error): return "\(error)"
            case .health(let message): return message
            case .system(let error): return "\(error)"
            case .config(let error): return "\(error)"
            case .sink(let message): return message
            }
        }
    }

    let config: Config
    let logger: Logger
    package let counters: Counters
    package let control: DaemonControl
    /// Exec mode: what the signal thread needs to reap the child and forward signals to it.
    package let child: ChildWatch?

    package init(config: Config, logger: Logger) throws(SystemError) {
        self.config = config
        self.logger = logger
        counters = Counters(
            sinkNames: config.sinks.map(\.name), httpSinks: Set(config.sinks.filter { $0.settings is HTTPSinkConfig }.map(\.name)),
            filterNames: config.filters.map(\.name), execMode: config.exec.isEnabled, followsFiles: !config.input.paths.isEmpty,
            readsJournal: config.input.journald != nil)
        child = config.exec.isEnabled ? ChildWatch(restart: config.exec.restart) : nil
        control = try DaemonControl(drainTimeoutMs: config.shutdown.drainTimeoutMs)
    }

    /// The checkpoint to resume from. A corrupt one is moved aside to `<path>.corrupt`, logged with the
    /// reason and counted, and the start proceeds as a first start; an unreadable one stops start-up.
    private func loadCheckpoint() throws(CheckpointError) -> Checkpoint? {
        let path = config.input.checkpointPath
        guard !path.isEmpty else { return nil }
        do {
            return try Checkpoint.load(from: path)
        } catch {
            guard case .corrupt = error else { throw error }
            counters.add(counters.checkpointCorrupt, 1)
            var metadata: Logger.Metadata = ["reason": "\(error)", "moved_to": "\(path).corrupt"]
            do { try FileIO.rename(path, path + ".corrupt") } catch { metadata["move_failed"] = "\(error)" }
            logger.warning("the checkpoint is corrupt; starting as a first start", metadata: metadata)
            return nil
        }
    }

    /// Starts everything; returns the exit code once the daemon has stopped: 0 after a clean stop, 1
    /// after a sink failure that makes its output uncertain (the checkpoint was left where it was); in
    /// exec mode the child's status (128 + N for signal N), 127 or 126 when it cannot be started.
    package func run(environment: [String: String]) throws(StartError) -> Int32 {
        let checkpoint: Checkpoint?
        do { checkpoint = try loadCheckpoint() } catch { throw .checkpoint(error) }
        if !config.input.checkpointPath.isEmpty {
            do { try FileIO.makeDirectories(Path.directory(of: config.input.checkpointPath)) } catch { throw .system(error) }
        }

        let descriptors = DescriptorLimit.raiseToHardLimit()
        let health: HealthServer?
        if config.health.port != 0 {
            do {
                health = try HealthServer.start(
                    config: config, counters: counters, maximumConnections: ConnectionLimiter.maximum(descriptorLimit: descriptors))
            } catch {
                throw .health("cannot start the health server on \(config.health.address):\(config.health.port): \(error)")
            }
        } else {
            health = nil
        }
        defer { health?.stop() }
        ColdPages.release()

        let fields = EnrichmentField.build(
            config: config.enrich, fileKey: config.effectiveFileKey, streamKey: config.exec.isEnabled ? EnrichmentField.streamKey : "",
            hostName: EnrichmentField.hostName(environment: environment), environment: environment,
            logger: logger)
        let control = self.control
        var sinks: [any Sink] = []
        for (config, counters) in zip(config.sinks, counters.sinks) {
            if let http = config.settings as? HTTPSinkConfig, !http.credentialsInText.isEmpty {
                logger.warning(
                    "a credential is written in the configuration's text; set it in the environment and name the variable in header_env",
                    metadata: ["sink": "\(config.name)", "keys": "\(http.credentialsInText.joined(separator: ","))"])
            }
            let context = SinkContext(
                counters: counters, logger: logger, checkpointPath: self.config.input.checkpointPath,
                shape: RecordShape(fields: fields, hostKey: self.config.enrich.hostField, wrapped: self.config.enrich.mode == .wrap),
                shouldGiveUp: { control.drainDeadlinePassed }, failureTimeoutMs: self.config.health.sinkFailureTimeoutMs)
            do { sinks.append(try SinkFactory.make(config, context: context)) } catch {
                throw .sink("sink \(config.name): \(error.reason)")
            }
        }
        let fanout = SinkFanout(
            sinks: sinks, counters: counters.sinks, logger: logger,
            pause: { control.wait(timeoutMs: $0) },
            shouldGiveUp: { control.drainDeadlinePassed },
            reopenRequested: { control.takeReopenRequest() })
        do { try fanout.start() } catch { throw .sink(error.reason) }
        // The reading loop closes the sinks when it stops; this covers the ways out before it runs.
        defer { fanout.close() }
        let filters: FilterChain?
        do { filters = config.filters.isEmpty ? nil : try FilterChain(config.filters) } catch { throw .config(error) }
        let enricher = Enricher(mode: config.enrich.mode, format: config.input.format, fields: fields, filters: filters)
        let pipeline = Pipeline(
            enricher: enricher, fanout: fanout, counters: counters, recordsOrigins: sinks.contains { $0.namesRecords },
            recordsMembers: sinks.contains { $0.readsMembers })
        do {
            let fileServer = FileServer(config: config.input, consumer: pipeline, counters: counters, logger: logger)
            fileServer.drainDeadlinePassed = { control.drainDeadlinePassed }
            try fileServer.start(from: checkpoint)
            var child: ReadingLoop.Child?
            if let watch = self.child {
                ChildWatch.becomeSubreaper()
                let streams = ChildStreams(
                    consumer: pipeline, counters: counters, buffer: fileServer.buffer, maxLineBytes: config.input.maxLineBytes,
                    format: config.input.format, settings: config.exec.streams)
                let supervisor = ChildSupervisor(config: config.exec, watch: watch, streams: streams, counters: counters, logger: logger)
                child = ReadingLoop.Child(supervisor: supervisor, streams: streams, watch: watch)
            }
            let journal = config.input.journald.map { settings in
                JournalInput(
                    settings: settings, cursor: checkpoint?.journal?.cursor, realtimeUsec: checkpoint?.journal?.realtimeUsec ?? 0,
                    readFromEnd: config.input.readFrom == .end, maxValueBytes: config.input.maxLineBytes, consumer: pipeline, counters: counters,
                    logger: logger)
            }
            let loop = ReadingLoop(
                config: config, fileServer: fileServer, fanout: fanout, counters: counters, control: control, logger: logger, child: child,
                journal: journal)
            return loop.run()
        } catch {
            throw .system(error)
        }
    }
}
