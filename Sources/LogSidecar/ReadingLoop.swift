import Synchronization
import Logging

/// The one thread of the hot path: follow -> split -> enrich -> write, batch by batch, then sleep in
/// poll() until inotify, the stat-poll timer, a rotation deadline or a signal wakes it. Each pass reads
/// within a budget, so the checkpoint, SIGHUP and the rotation checks keep their intervals under a backlog.
final class ReadingLoop {
    let config: Config
    let fileServer: FileServer
    let fanout: SinkFanout
    let counters: Counters
    let control: DaemonControl
    let logger: Logger
    private var lastError = ""
    private var lastSaved: Checkpoint?
    private var checkpointFailing = false

    init(config: Config, fileServer: FileServer, fanout: SinkFanout, counters: Counters, control: DaemonControl, logger: Logger) {
        self.config = config
        self.fileServer = fileServer
        self.fanout = fanout
        self.counters = counters
        self.control = control
        self.logger = logger
    }

    /// Runs until a signal stops it; the exit code: 0, or 1 after a fatal sink failure.
    func run() -> Int32 {
        var nextCheckpointMs = MonotonicClock.milliseconds() + Int64(config.input.checkpointIntervalMs)
        var pass = cycle()
        ColdPages.release()
        while !control.isStopping && fanout.fatalFailure == nil {
            counters.loopHeartbeatMs.store(MonotonicClock.milliseconds(), ordering: .relaxed)
            if control.takeReopenRequest() {
                logger.info("SIGHUP: reopening sink files")
                fanout.reopen()
            }
            if pass != .budgetSpent {
                control.wait(timeoutMs: waitMs(after: pass, until: nextCheckpointMs), also: fileServer.eventDescriptor)
                fileServer.drainEvents()
            }
            pass = cycle()
            let now = MonotonicClock.milliseconds()
            if now >= nextCheckpointMs {
                saveCheckpoint()
                nextCheckpointMs = now + Int64(config.input.checkpointIntervalMs)
            }
        }
        if fanout.fatalFailure == nil { shutdown() }
        guard let fatal = fanout.fatalFailure else { return 0 }
        logger.critical(
            "output may be lost; exiting without moving the checkpoint, so the next start replays from it",
            metadata: ["error": "\(fatal.reason)"])
        return 1
    }

    /// Until the next poll tick, checkpoint or rotation deadline. After a failed pass, a whole poll
    /// interval: a persistent error (an unreadable directory) is retried at the poll's pace, never in a
    /// busy loop on a rotation deadline that is already past.
    private func waitMs(after pass: FileServer.Pass?, until nextCheckpointMs: Int64) -> Int {
        let now = MonotonicClock.milliseconds()
        var wakeAt = min(now + Int64(config.input.pollIntervalMs), nextCheckpointMs)
        if pass != nil, let rotation = fileServer.nextRotationDeadlineMs { wakeAt = min(wakeAt, rotation) }
        return Int(max(wakeAt - now, pass == nil ? Int64(config.input.pollIntervalMs) : 1))
    }

    /// SIGTERM: read every file to its end, give a last line without newline its grace period, flush
    /// every sink, write the checkpoint. All of it bounded by `shutdown.drain_timeout_ms`.
    private func shutdown() {
        let deadline = control.drainDeadlineMs.load(ordering: .sequentiallyConsistent)
        logger.info("stopping: shipping what is left", metadata: ["drain_timeout_ms": "\(config.shutdown.drainTimeoutMs)"])
        // Twice: a rotation noticed in the first pass is read in the second.
        var complete = readToEnd() && readToEnd()
        while complete, let quietAt = fileServer.partialLinesQuietAtMs {
            let now = MonotonicClock.milliseconds()
            if quietAt <= now || now >= deadline { break }
            control.wait(timeoutMs: Int(min(quietAt, deadline) - now), also: fileServer.eventDescriptor)
            fileServer.drainEvents()
            complete = readToEnd()
        }
        if complete { complete = fileServer.flushQuietPartialLines() }
        if !complete { logger.warning("not everything could be shipped before stopping; the rest stays behind the checkpoint for the next start") }
        saveCheckpoint()
        fanout.close()
        logger.info("stopped", metadata: ["lines_read": "\(counters.linesRead.load(ordering: .relaxed))"])
    }

    /// Passes until every file is at its end; false when delivery was given up or reading failed.
    private func readToEnd() -> Bool {
        while true {
            switch cycle() {
            case .caughtUp: return true
            case .budgetSpent: continue
            case .givenUp, nil: return false
            }
        }
    }

    /// One pass; nil when it failed. The error is logged once per distinct error, and shown on
    /// `/health` and, once no pass has succeeded for the stall threshold, on `/healthz`.
    private func cycle() -> FileServer.Pass? {
        do {
            let pass = try fileServer.cycle()
            counters.lastPassSucceededMs.store(MonotonicClock.milliseconds(), ordering: .relaxed)
            if !lastError.isEmpty {
                logger.notice("reading the input works again")
                counters.inputError.withLock { $0 = "" }
            }
            lastError = ""
            return pass
        } catch {
            let text = "\(error)"
            if text != lastError {
                logger.error("reading the input failed; retrying", metadata: ["error": "\(text)"])
                counters.inputError.withLock { $0 = text }
            }
            lastError = text
            return nil
        }
    }

    /// Sinks first: the checkpoint may only claim what the sinks made durable.
    private func saveCheckpoint() {
        let path = config.input.checkpointPath
        guard !path.isEmpty else { return }
        let checkpoint = fileServer.checkpoint
        // A quiet file costs no fsync and no rename: idle means idle.
        guard checkpoint != lastSaved else { return }
        guard fanout.flush() else { return }
        do {
            try checkpoint.save(to: path)
            lastSaved = checkpoint
            if checkpointFailing { logger.notice("writing the checkpoint works again", metadata: ["path": "\(path)"]) }
            checkpointFailing = false
            counters.checkpointError.withLock { $0 = "" }
        } catch {
            // Shipping goes on: the checkpoint catches up once it can be written.
            if !checkpointFailing {
                logger.error("writing the checkpoint failed; shipping goes on", metadata: ["path": "\(path)", "error": "\(error)"])
            }
            checkpointFailing = true
            counters.checkpointError.withLock { $0 = "\(error)" }
        }
    }
}
