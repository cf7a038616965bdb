import Synchronization
import Logging

/// The one thread of the hot path: follow -> split -> enrich -> write, batch by batch, then sleep in
/// poll() until inotify, the stat-poll timer, a rotation deadline or a signal wakes it.
final class ReadingLoop {
    let config: Config
    let follower: Follower
    let fanout: SinkFanout
    let counters: Counters
    let control: DaemonControl
    let logger: Logger
    private var lastError = ""
    private var lastSaved: Checkpoint?

    init(config: Config, follower: Follower, fanout: SinkFanout, counters: Counters, control: DaemonControl, logger: Logger) {
        self.config = config
        self.follower = follower
        self.fanout = fanout
        self.counters = counters
        self.control = control
        self.logger = logger
    }

    func run() {
        var nextCheckpointMs = MonotonicClock.milliseconds() + Int64(config.input.checkpointIntervalMs)
        cycle()
        ColdPages.release()
        while !control.isStopping {
            counters.loopHeartbeatMs.store(MonotonicClock.milliseconds(), ordering: .relaxed)
            if control.reopenRequested.exchange(false, ordering: .sequentiallyConsistent) {
                logger.info("SIGHUP: reopening sink files")
                fanout.reopen()
            }
            cycle()
            let now = MonotonicClock.milliseconds()
            if now >= nextCheckpointMs {
                saveCheckpoint()
                nextCheckpointMs = now + Int64(config.input.checkpointIntervalMs)
            }
            var wakeAt = min(now + Int64(config.input.pollIntervalMs), nextCheckpointMs)
            if let rotation = follower.nextRotationDeadlineMs { wakeAt = min(wakeAt, rotation) }
            control.wait(timeoutMs: Int(wakeAt - now), also: follower.eventDescriptor)
            drainEvents()
        }
        shutdown()
    }

    /// SIGTERM: read every file to its end, give a last line without newline its grace period, flush
    /// every sink, write the checkpoint. All of it bounded by `shutdown.drain_timeout_ms`.
    private func shutdown() {
        let deadline = control.drainDeadlineMs.load(ordering: .sequentiallyConsistent)
        logger.info("stopping: shipping what is left", metadata: ["drain_timeout_ms": "\(config.shutdown.drainTimeoutMs)"])
        // Twice: a rotation noticed in the first pass is read in the second.
        var complete = cycle() && cycle()
        while complete, let quietAt = follower.partialLinesQuietAtMs {
            let now = MonotonicClock.milliseconds()
            if quietAt <= now || now >= deadline { break }
            control.wait(timeoutMs: Int(min(quietAt, deadline) - now), also: follower.eventDescriptor)
            drainEvents()
            complete = cycle()
        }
        if complete { complete = follower.flushQuietPartialLines() }
        if !complete { logger.warning("drain timeout reached; the rest stays behind the checkpoint for the next start") }
        saveCheckpoint()
        fanout.close()
        logger.info("stopped", metadata: ["lines_read": "\(counters.linesRead.load(ordering: .relaxed))"])
    }

    @discardableResult
    private func cycle() -> Bool {
        do {
            let complete = try follower.cycle()
            lastError = ""
            return complete
        } catch {
            // Logged once per distinct error: a persistent one shows on /healthz as no progress.
            if "\(error)" != lastError { logger.error("reading the input failed; retrying", metadata: ["error": "\(error)"]) }
            lastError = "\(error)"
            return false
        }
    }

    private func drainEvents() { follower.drainEvents() }

    /// Sinks first: the checkpoint may only claim what the sinks made durable.
    private func saveCheckpoint() {
        let path = config.input.checkpointPath
        guard !path.isEmpty else { return }
        let checkpoint = follower.checkpoint
        // A quiet file costs no fsync and no rename: idle means idle.
        guard checkpoint != lastSaved else { return }
        guard fanout.flush() else { return }
        do {
            try checkpoint.save(to: path)
            lastSaved = checkpoint
        } catch {
            logger.error("writing the checkpoint failed", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
