import Synchronization
import Glibc
import Logging

/// Follows one path through every rotation in the design's table. Each `cycle()` looks at the path,
/// settles rotations and truncations, then reads every open file to its end, rotated ones first so
/// the old file's lines come before the new file's.
public final class Follower {
    let path: String
    let directory: String
    let config: InputConfig
    let consumer: any LineConsumer
    let counters: Counters
    let logger: Logger
    let watcher: ChangeWatcher
    private(set) var current: TailedFile?
    private(set) var draining: [TailedFile] = []
    /// True once a stopping daemon's drain time is over: reading stops between two batches.
    var drainDeadlinePassed: () -> Bool = { false }
    /// How long one pass may read before it hands back to the loop, so that however far behind the
    /// reader is, the checkpoint, signals and rotation checks still run at their intervals.
    let passBudgetMs: Int64
    private var passDeadlineMs: Int64 = .max

    init(config: InputConfig, consumer: any LineConsumer, counters: Counters, logger: Logger) {
        self.config = config
        path = config.path
        directory = Path.directory(of: config.path)
        self.consumer = consumer
        self.counters = counters
        self.logger = logger
        passBudgetMs = Int64(max(10, min(config.pollIntervalMs, config.checkpointIntervalMs) / 2))
        watcher = ChangeWatcher(directory: Path.directory(of: config.path), logger: logger) {
            counters.inotifyActive.store($0, ordering: .relaxed)
        }
    }

    /// The descriptor that wakes the reading loop on a change; nil while the stat poll runs alone.
    var eventDescriptor: Int32? { watcher.descriptor }

    /// Opens what the checkpoint names (or the path itself on a first start).
    public func start(from checkpoint: Checkpoint?) throws(SystemError) {
        watcher.ensure()
        if let checkpoint {
            let restored = try CheckpointRestore(config: config, counters: counters, logger: logger).restore(checkpoint)
            current = restored.current
            draining = restored.draining
        } else if let file = try TailedFile.open(
            path: path, offset: config.readFrom == .end ? nil : 0, maxLineBytes: config.maxLineBytes)
        {
            current = file
        }
        if current == nil { logger.info("waiting for the input file to appear", metadata: ["path": "\(path)"]) }
        counters.following.store(current != nil, ordering: .relaxed)
    }

    /// Reads what inotify queued; only whether to look again matters.
    func drainEvents() { watcher.drain() }

    public enum Pass: Equatable {
        /// Every open file was read to its end.
        case caughtUp
        /// The pass budget ran out with more to read: go again soon, after the loop's own duties.
        case budgetSpent
        /// Delivery was given up (shutdown deadline): nothing more is acknowledged.
        case givenUp
    }

    /// One look: rotations, truncation, then read what is available, within the pass budget.
    public func cycle() throws(SystemError) -> Pass {
        passDeadlineMs = MonotonicClock.milliseconds() + passBudgetMs
        defer { updateLag() }
        watcher.ensure()
        try checkPath()
        // Before reading too: while a batch waits on a failing sink, the lag must show what waits.
        updateLag()
        for file in openFiles {
            let pass = try readToEnd(file)
            if pass != .caughtUp { return pass }
        }
        try closeQuietDrainingFiles(force: false)
        return .caughtUp
    }

    /// Monotonic ms at which a rotated file becomes quiet enough to close; nil when none waits.
    public var nextRotationDeadlineMs: Int64? {
        draining.filter { !$0.isCopy }.map { $0.lastGrowthMs + Int64(config.rotateWaitMs) }.min()
    }

    /// Rotated files still draining, oldest first, then the current file: the order they are read in.
    private var openFiles: [TailedFile] { current.map { draining + [$0] } ?? draining }

    /// Every file with a line still missing its newline, and when it was last written.
    var filesWithPartialLines: [TailedFile] {
        openFiles.filter { $0.splitter.pendingBytes > 0 }
    }

    /// At shutdown: ships each incomplete last line whose file has been quiet for `rotate_wait_ms`;
    /// a line still being written stays behind the checkpoint for the next start to complete.
    public func flushQuietPartialLines() -> Bool {
        let now = MonotonicClock.milliseconds()
        for file in filesWithPartialLines where now - file.lastGrowthMs >= Int64(config.rotateWaitMs) {
            guard shipPartial(file) else { return false }
        }
        return true
    }

    /// Monotonic ms when the last pending partial line becomes shippable; nil when there is none.
    public var partialLinesQuietAtMs: Int64? {
        filesWithPartialLines.map { $0.lastGrowthMs + Int64(config.rotateWaitMs) }.max()
    }

    public var checkpoint: Checkpoint {
        Checkpoint(entries: openFiles.map(\.checkpointEntry))
    }

    // MARK: - rotation

    private func checkPath() throws(SystemError) {
        let atPath = try FileStatus.at(path)
        if let file = current {
            let open = try FileStatus.of(descriptor: file.descriptor)
            let verdict = RotationCheck.verdict(
                identity: file.identity, readOffset: file.readOffset, open: open, atPath: atPath,
                prefixMatches: try file.identity.prefixMatches(file.descriptor))
            switch verdict {
            case .unchanged:
                break
            case .replaced:
                counters.add(counters.rotations, 1)
                logger.info("input file rotated; draining the old one", metadata: ["path": "\(path)"])
                file.lastGrowthMs = MonotonicClock.milliseconds()
                draining.append(file)
                current = nil
            case .truncated:
                try handleTruncation(of: file)
            }
        }
        if current == nil, let atPath, !atPath.isDirectory {
            // A file that appears after start, or after a rotation, is new: read it whole.
            current = try TailedFile.open(path: path, offset: 0, maxLineBytes: config.maxLineBytes)
            if current != nil {
                logger.info("following input file", metadata: ["path": "\(path)"])
                counters.following.store(true, ordering: .relaxed)
            }
        }
    }

    /// copytruncate: what we had not read yet is in the copy, if one starts with our fingerprint.
    private func handleTruncation(of file: TailedFile) throws(SystemError) {
        counters.add(counters.truncations, 1)
        if let copy = try CopyFinder.findCopy(
            of: file.identity, atLeast: file.readOffset, from: file.acknowledgedOffset, in: directory,
            excluding: path, maxLineBytes: config.maxLineBytes)
        {
            logger.info("input file truncated; shipping the rest from its copy", metadata: ["copy": "\(copy.path)"])
            file.splitter.reset()
            draining.append(copy)
        } else {
            logger.warning(
                "input file truncated and no copy found; bytes written after our last read are not recoverable",
                metadata: ["path": "\(path)", "offset": "\(file.readOffset)"])
            _ = shipPartial(file)
        }
        try file.rewind()
    }

    private func closeQuietDrainingFiles(force: Bool) throws(SystemError) {
        let now = MonotonicClock.milliseconds()
        var kept: [TailedFile] = []
        for file in draining {
            let quiet = file.isCopy || now - file.lastGrowthMs >= Int64(config.rotateWaitMs)
            if file.atEndOfFile && (quiet || force) {
                guard shipPartial(file) else { kept.append(file); continue }
                logger.debug("closed drained file", metadata: ["path": "\(file.path)"])
            } else {
                kept.append(file)
            }
        }
        draining = kept
    }

    // MARK: - reading

    /// Reads `file` to its current end, delivering batch by batch, until the pass budget is spent.
    private func readToEnd(_ file: TailedFile) throws(SystemError) -> Pass {
        while true {
            let count = try file.splitter.read(from: file.descriptor)
            if count == 0 {
                file.atEndOfFile = true
                return .caughtUp
            }
            file.atEndOfFile = false
            file.readOffset += Int64(count)
            file.lastGrowthMs = MonotonicClock.milliseconds()
            var lines = 0
            file.splitter.forEachLine { line in
                lines += 1
                consumer.consume(line, partial: false)
            }
            let acknowledged = file.readOffset - Int64(file.splitter.pendingBytes)
            counters.add(counters.bytesRead, count)
            counters.add(counters.linesRead, lines)
            guard consumer.deliver() else { return .givenUp }
            file.acknowledgedOffset = acknowledged
            try file.refreshIdentity()
            if drainDeadlinePassed() { return .givenUp }
            if MonotonicClock.milliseconds() >= passDeadlineMs { return .budgetSpent }
        }
    }

    private func shipPartial(_ file: TailedFile) -> Bool {
        guard file.splitter.pendingBytes > 0 else { return true }
        let end = file.readOffset
        file.splitter.takePartial { consumer.consume($0, partial: true) }
        counters.add(counters.partialLines, 1)
        guard consumer.deliver() else { return false }
        file.acknowledgedOffset = end
        return true
    }

    private func updateLag() {
        var lag: Int64 = 0
        for file in openFiles {
            if let status = try? FileStatus.of(descriptor: file.descriptor) {
                lag += max(0, status.size - file.acknowledgedOffset)
            }
        }
        counters.lagBytes.store(Int(lag), ordering: .relaxed)
        counters.checkpointOffset.store(Int(current?.acknowledgedOffset ?? 0), ordering: .relaxed)
    }
}
