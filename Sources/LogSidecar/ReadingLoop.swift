import Configuration
import Exec
import Glibc
import Journal
import Logging
import Sinks
import Synchronization
import SystemSupport
import Tailing
import Telemetry

/// The one thread of the hot path: follow -> split -> enrich -> write, batch by batch, then sleep in
/// poll() until inotify, the stat-poll timer, a rotation deadline or a signal wakes it. Each pass reads
/// within a budget, so the checkpoint, SIGHUP and the rotation checks keep their intervals under a backlog.
final class ReadingLoop {
    /// Exec mode's parts: the child's supervisor, its pipes, and what the signal thread shares.
    struct Child {
        let supervisor: ChildSupervisor
        let streams: ChildStreams
        let watch: ChildWatch
    }

    let config: Config
    let fileServer: FileServer
    let fanout: SinkFanout
    let counters: Counters
    let control: DaemonControl
    let logger: Logger
    let child: Child?
    let journal: JournalInput?
    private var lastError = ""
    /// The reading thread's timer slack around its waits.
    private var waitSlack = WaitSlack()
    private var lastSaved: Checkpoint?
    /// The checkpoint the checkpoint thread is writing.
    private var checkpointBeingSaved: Checkpoint?
    private lazy var checkpointWriter = CheckpointWriter(wake: { [control] in control.wake() })
    /// Checkpoints taken but not yet acknowledged by every sink, with `fanout.writtenBytes` at the time.
    private var waitingCheckpoints: [(position: Int, checkpoint: Checkpoint)] = []
    static let maximumWaitingCheckpoints = 32
    private var checkpointFailing = false
    private var streamsBusy = false
    /// The journal reader's pipe held more than one pass's budget.
    private var journalBusy = false
    /// Delivery of the child's output was given up at the drain deadline: that output is lost.
    private var streamsGaveUp = false

    init(
        config: Config, fileServer: FileServer, fanout: SinkFanout, counters: Counters, control: DaemonControl, logger: Logger,
        child: Child? = nil, journal: JournalInput? = nil
    ) {
        self.journal = journal
        self.config = config
        self.fileServer = fileServer
        self.fanout = fanout
        self.counters = counters
        self.control = control
        self.logger = logger
        self.child = child
    }

    /// Runs until a signal stops it (in exec mode: until the child is done); the exit code: 0, the
    /// child's status in exec mode, 1 after a fatal sink failure, 126 or 127 when the command cannot start.
    func run() -> Int32 {
        if let child {
            do { try child.supervisor.start() } catch {
                logger.critical("cannot start the application", metadata: ["error": "\(error)"])
                return error.exitCode
            }
        }
        var nextCheckpointMs = MonotonicClock.milliseconds() + Int64(config.input.checkpointIntervalMs)
        var pass = cycle()
        ColdPages.release()
        var trimmer = PageTrimmer(nowMs: MonotonicClock.milliseconds(), inputSoFar: inputSoFar)
        defer { checkpointWriter.stop() }
        while !isDone && fanout.fatalFailure == nil {
            counters.loopHeartbeatMs.store(MonotonicClock.milliseconds(), ordering: .relaxed)
            if control.takeReopenRequest() {
                logger.info("SIGHUP: reopening sink files")
                fanout.reopen()
            }
            if pass != .budgetSpent && !streamsBusy && !journalBusy {
                // A write still running behind finishes before the loop sleeps: its failure is seen
                // (and retried, reading paused) now, not with the next input. The result shows in
                // `fanout.fatalFailure` or, once stopping, in the drain.
                _ = fanout.settle()
                // A wake-up during the coalescing pause (a signal, the child's exit) is acted on now.
                // A short wait: no slack left from a quiet second's may make it late.
                let trickled = child?.streams.trickled == true
                if trickled { waitSlack.beforeWait(timeoutMs: ChildStreams.coalesceMs) }
                let woken = trickled && control.wait(timeoutMs: ChildStreams.coalesceMs)
                // inotify is read only when it has something: a quiet second is one poll and one stat.
                var eventsReady = true
                if !woken {
                    let timeoutMs = waitMs(after: pass, until: nextCheckpointMs)
                    refreshWaitSet()
                    let readable = sleepingLate(timeoutMs) { control.waitReporting(timeoutMs: timeoutMs, also: waitSet) }
                    eventsReady = !waitsOnEvents || readable & 1 != 0
                }
                if eventsReady { fileServer.drainEvents() }
            }
            if let child {
                do { try child.supervisor.step() } catch {
                    logger.critical("cannot start the application again", metadata: ["error": "\(error)"])
                    control.requestStop()
                    shutdown()
                    return error.exitCode
                }
                readStreams()
            }
            if let journal {
                journal.step()
                let outcome = journal.read()
                journalBusy = outcome == .more
                if outcome == .givenUp { break }
            }
            pass = cycle()
            // An outcome follows a job handed over; a quiet loop does not look (or take the lock).
            if checkpointBeingSaved != nil, let outcome = checkpointWriter.takeOutcome() { apply(outcome) }
            let now = MonotonicClock.milliseconds()
            if now >= nextCheckpointMs {
                saveCheckpoint()
                nextCheckpointMs = Self.nextCheckpointMs(after: nextCheckpointMs, now: now, intervalMs: Int64(config.input.checkpointIntervalMs))
            }
            trimmer.look(nowMs: now, inputSoFar: inputSoFar)
        }
        if let fatal = fanout.fatalFailure {
            // Our output is gone: the child would block on a pipe nobody reads; it is asked to stop.
            child?.watch.forward(SIGTERM)
            logger.critical(
                "output may be lost; exiting without moving the checkpoint, so the next start replays from it",
                metadata: ["error": "\(fatal.reason)"])
            return 1
        }
        // Exec mode: the drain deadline starts when the child has exited.
        control.requestStop()
        shutdown()
        if let fatal = fanout.fatalFailure {
            logger.critical("output may be lost", metadata: ["error": "\(fatal.reason)"])
            return 1
        }
        return child?.supervisor.exitCode ?? 0
    }

    /// Long waits may end late (`WaitSlack`); nothing waits on such a wake-up: input arrives through
    /// the descriptors, which end the wait at once, slack or not.
    private func sleepingLate(_ timeoutMs: Int, _ wait: () -> (woken: Bool, readable: UInt64)) -> UInt64 {
        waitSlack.beforeWait(timeoutMs: timeoutMs)
        let (woken, readable) = wait()
        waitSlack.afterWait(endedEarly: woken || readable != 0)
        return readable
    }

    /// Lines and journal entries read since start: whether input came, for `PageTrimmer`.
    private var inputSoFar: Int { counters.linesRead.load(ordering: .relaxed) &+ counters.journalEntriesRead.load(ordering: .relaxed) }

    /// Stop: a signal, or in exec mode the child's exit with no restart to follow.
    private var isDone: Bool {
        if let child { return child.supervisor.finished }
        return control.isStopping
    }

    /// What the loop sleeps on besides its wake-up pipe: inotify, the child's pipes, the journal
    /// reader's pipe. Inotify's first: bit 0 of what the wait reports. Refilled in place before each wait, so
    /// that following files alone allocates nothing a quiet second.
    private var waitSet: [Int32] = []
    /// The wait set starts with inotify's descriptor (there is one: not while the stat poll stands in).
    private var waitsOnEvents = false

    private func refreshWaitSet() {
        waitSet.removeAll(keepingCapacity: true)
        let events = fileServer.eventDescriptor
        waitsOnEvents = events != nil
        if let events { waitSet.append(events) }
        if let child { waitSet += child.streams.descriptors }
        if let journal = journal?.descriptor { waitSet.append(journal) }
    }

    /// Reads the child's pipes; a pipe that cannot be read is closed and reported (never retried in a
    /// busy loop).
    @discardableResult
    private func readStreams() -> Bool {
        guard let streams = child?.streams else { return true }
        do {
            var outcome = try streams.read()
            // A record pending in a pipe that has gone quiet goes now, not with the next bytes.
            if outcome == .drained && !streams.shipQuietRecords() { outcome = .givenUp }
            streamsBusy = outcome == .more
            if outcome == .givenUp { streamsGaveUp = true }
            return outcome != .givenUp
        } catch {
            logger.error("reading the application's output failed", metadata: ["error": "\(error)"])
            streamsBusy = false
            return streams.closeAll()
        }
    }

    /// Until the next poll tick, checkpoint or rotation deadline. After a failed pass, a whole poll
    /// interval: a persistent error (an unreadable directory) is retried at the poll's pace, never in a
    /// busy loop on a rotation deadline that is already past.
    private func waitMs(after pass: FileServer.Pass?, until nextCheckpointMs: Int64) -> Int {
        let now = MonotonicClock.milliseconds()
        var wakeAt = min(now + Int64(config.input.pollIntervalMs), nextCheckpointMs)
        if pass != nil, let rotation = fileServer.nextRotationDeadlineMs { wakeAt = min(wakeAt, rotation) }
        if pass != nil, let quiet = fileServer.nextQuietRecordMs { wakeAt = min(wakeAt, quiet) }
        if let quiet = child?.streams.nextQuietRecordMs { wakeAt = min(wakeAt, quiet) }
        if let restart = child?.supervisor.restartAtMs { wakeAt = min(wakeAt, restart) }
        if let restart = journal?.restartAtMs { wakeAt = min(wakeAt, restart) }
        return Int(max(wakeAt - now, pass == nil ? Int64(config.input.pollIntervalMs) : 1))
    }

    /// SIGTERM: read every file to its end, give a last line without newline its grace period, flush
    /// every sink, write the checkpoint. All of it bounded by `shutdown.drain_timeout_ms`.
    private func shutdown() {
        let deadline = control.drainDeadlineMs.load(ordering: .sequentiallyConsistent)
        // The drain's waits are short and bounded by its deadline: none of them may end late.
        waitSlack.reset()
        logger.info("stopping: shipping what is left", metadata: ["drain_timeout_ms": "\(config.shutdown.drainTimeoutMs)"])
        if let streams = child?.streams {
            // The child has exited; what it wrote is still in the pipes, up to their end.
            while !streams.allClosed && !control.drainDeadlinePassed && readStreams() {
                if streamsBusy || streams.allClosed { continue }
                let left = control.drainDeadlineMs.load(ordering: .relaxed) - MonotonicClock.milliseconds()
                control.wait(timeoutMs: Int(min(left, 100)), also: streams.descriptors)
            }
            if !streams.allClosed && !streamsGaveUp {
                logger.warning("the application's output is still open (a process it started holds it); stopping at the drain timeout")
            }
            if !streams.closeAll() { streamsGaveUp = true }
            if streamsGaveUp {
                // Nothing can replay a pipe: what the sinks did not take is gone, and said so.
                logger.error(
                    "the sinks did not take the application's last output before the drain timeout; it is lost",
                    metadata: ["drain_timeout_ms": "\(config.shutdown.drainTimeoutMs)"])
            }
        }
        // The journal is read again from the checkpoint's cursor: what its reader had not sent yet waits there.
        journal?.stop()
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
        // Every sink hands over what it holds and waits for its receiver (bounded by the deadline).
        if complete { complete = fanout.drain() }
        if !complete { logger.warning("not everything could be shipped before stopping; the rest stays behind the checkpoint for the next start") }
        saveCheckpoint(waiting: true)
        // What the child printed has no checkpoint behind it (a pipe cannot be read again): the sinks'
        // drain (a file sink's fsync, an HTTP sink's acknowledgement) is all that makes it durable.
        if child != nil && !complete { logger.error("the sinks did not take everything at the end; the application's last output may be lost") }
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

    /// Sinks first: the checkpoint may only claim what every sink made durable. A sink that sends in
    /// batches of its own (HTTP) acknowledges later than the reading loop hands records over, so each
    /// checkpoint is kept with the stream position it needs and written once every sink got that far.
    /// The file sinks' fsyncs and the checkpoint's own are the checkpoint thread's (`CheckpointWriter`);
    /// `waiting` (shutdown) waits for them.
    private func saveCheckpoint(waiting: Bool = false) {
        if waiting, let outcome = checkpointWriter.finish() { apply(outcome) }
        // A quiet interval: nothing moved since the last checkpoint written, and nothing waits.
        if waitingCheckpoints.isEmpty, checkpointBeingSaved == nil, let lastSaved, fileServer.checkpointIsCurrent(lastSaved),
            journal?.position.cursor == lastSaved.journal?.cursor
        {
            return
        }
        let path = config.input.checkpointPath
        var current = fileServer.checkpoint
        if let journal, let cursor = journal.position.cursor {
            current.journal = Checkpoint.JournalPosition(cursor: cursor, realtimeUsec: journal.position.realtimeUsec)
        }
        // A quiet file costs no fsync and no rename: idle means idle.
        if current != (waitingCheckpoints.last?.checkpoint ?? checkpointBeingSaved ?? lastSaved) {
            // Bounded: dropping one in the middle only writes a later one sooner.
            if waitingCheckpoints.count >= Self.maximumWaitingCheckpoints { waitingCheckpoints.remove(at: waitingCheckpoints.count - 2) }
            waitingCheckpoints.append((fanout.writtenBytes, current))
        }
        guard !waitingCheckpoints.isEmpty, !checkpointWriter.isBusy else { return }
        let acknowledged = fanout.acknowledgedBytes
        guard let ready = waitingCheckpoints.lastIndex(where: { $0.position <= acknowledged }) else { return }
        let checkpoint = waitingCheckpoints[ready].checkpoint
        // Without a checkpoint file nothing is made durable: the position is only reported.
        if path.isEmpty {
            waitingCheckpoints.removeFirst(ready + 1)
            apply(.saved(checkpoint))
            return
        }
        guard let syncs = fanout.syncJobs() else { return }
        waitingCheckpoints.removeFirst(ready + 1)
        checkpointBeingSaved = checkpoint
        checkpointWriter.submit(CheckpointWriter.Job(syncs: syncs, checkpoint: checkpoint, path: path))
        if waiting, let outcome = checkpointWriter.finish() { apply(outcome) }
    }

    /// The tick after `due`: on the interval's grid, so a pass that ends late (a batch waiting for a slow
    /// sink) does not push every later checkpoint back with it; a tick missed whole is skipped, never
    /// caught up in a burst.
    static func nextCheckpointMs(after due: Int64, now: Int64, intervalMs: Int64) -> Int64 {
        let next = due + intervalMs
        return next > now ? next : now + intervalMs
    }

    /// What the checkpoint thread made of the last checkpoint it was given.
    private func apply(_ outcome: CheckpointWriter.Outcome) {
        checkpointBeingSaved = nil
        let path = config.input.checkpointPath
        switch outcome {
        case .saved(let checkpoint):
            lastSaved = checkpoint
            fileServer.checkpointed(checkpoint)
            journal?.checkpointed(cursor: checkpoint.journal?.cursor, realtimeUsec: checkpoint.journal?.realtimeUsec ?? 0)
            if checkpointFailing { logger.notice("writing the checkpoint works again", metadata: ["path": "\(path)"]) }
            checkpointFailing = false
            counters.checkpointError.withLock { $0 = "" }
        case .sinkFailed(let failure, let sink):
            fanout.syncFailed(failure, sink: sink)
        case .notSaved(let checkpoint, let error):
            // Shipping goes on: the checkpoint catches up once it can be written (this one, unless a
            // later one is ready by then).
            waitingCheckpoints.insert((0, checkpoint), at: 0)
            if !checkpointFailing {
                logger.error("writing the checkpoint failed; shipping goes on", metadata: ["path": "\(path)", "error": "\(error)"])
            }
            checkpointFailing = true
            counters.checkpointError.withLock { $0 = "\(error)" }
        }
    }
}
