import Configuration
import Logging
import Multiline
import Records
import Synchronization
import SystemSupport
import Telemetry

/// Owns the set of followed files, keyed by identity: discovery says which paths the patterns match,
/// each `TailedFile` carries one file through the rotation table, and one shared read buffer serves
/// them all. Each `cycle()` applies what discovery, events and the stat poll found, then reads fairly:
/// every file with bytes waiting gets at most a few reads per round, rounds repeat until everything is
/// read or the pass budget is spent, and the next pass starts where this one stopped.
package final class FileServer {
    let config: InputConfig
    let consumer: any LineConsumer
    let counters: Counters
    let logger: Logger
    let watcher: ChangeWatcher
    /// The time poll intervals, rotation waits and the pass budget are measured on.
    let clock: any TimeSource
    let discovery: Discovery
    package let buffer = ReadBuffer()
    /// In the order they were found: a rotated file comes before the file that took its path.
    private(set) var files: [TailedFile] = []
    var byInode: [FileKey: TailedFile] = [:]
    var byPath: [String: TailedFile] = [:]
    var watchedDirectories: Set<String> = []
    var openCount = 0
    /// The files' lag, those waiting and whether a path moved, kept as the files change.
    let tally = FileTally()
    private var detachedFiles: [TailedFile] = []
    private var trackedCount = 0
    /// Whether any entry joins lines (`multiline`): only then can a file have a record pending.
    private let joinsLines: Bool
    /// No checkpoint: `read_from` applies to the files of the first discovery.
    var firstStart = false
    var discovered = false
    /// Files out of sight that may come back under a name the patterns match.
    var departed = DepartedFiles()
    private var pending = DirectoryChanges()
    private var parsers: [ParseRule: LineParser?] = [:]
    private var nextPollMs: Int64 = 0
    private var pollTicks = 0
    /// While inotify watches every directory, the stat poll backs it up: a file written in the last
    /// 10 s is looked at every tick, a quieter one every `quietSweepTicks`-th, spread over the ticks,
    /// so a thousand quiet files cost a hundred `fstat`s a second, not a thousand.
    static let quietSweepTicks = 10
    static let activeWindowMs: Int64 = 10_000
    private var roundStart = 0
    private var unacknowledged: [(file: TailedFile, offset: Int64)] = []
    private var batchedBytes = 0
    private var lastReportMs: Int64 = 0
    /// A pass published its gauges but not the per-file report (less than half a second after the last).
    private var reportHeldBack = false
    /// The last pass caught up and found nothing unreadable: the next poll tick may be a quiet one,
    /// if `isSettled` says nothing is in motion.
    private var settled = false
    /// `isSettled`'s answer for the files, worked out at the first poll tick after a pass, not after
    /// every pass: a pass on a busy file would otherwise look at every file known. Only a pass (and
    /// the shutdown's flush) changes what it looks at; nil until it is worked out.
    private var filesAtRest: Bool?
    /// The one path followed when `input.paths` is a single literal path (as discovery spells it):
    /// readiness waits for it, and the checkpoint offset gauge is its.
    private let literalPath: String?
    /// True once a stopping daemon's drain time is over: reading stops between two batches.
    package var drainDeadlinePassed: () -> Bool = { false }
    /// How long one pass may read before it hands back to the loop, so that however far behind the
    /// reader is, the checkpoint, signals and rotation checks still run at their intervals.
    let passBudgetMs: Int64
    private var passDeadlineMs: Int64 = .max
    /// Reads one file gets per round before the next file's turn.
    static let readsPerTurn = 4

    struct FileKey: Hashable {
        let device: UInt64
        let inode: UInt64
        init(_ identity: FileIdentity) { (device, inode) = (identity.device, identity.inode) }
        init(_ candidate: Discovery.Candidate) { (device, inode) = (candidate.device, candidate.inode) }
        init(_ status: FileStatus) { (device, inode) = (status.device, status.inode) }
    }

    /// `clock` and `events` (the directory-event source, inotify in the daemon) are the seams unit
    /// tests replace.
    package init(
        config: InputConfig, consumer: any LineConsumer, counters: Counters, logger: Logger, clock: any TimeSource = SystemClock.shared,
        events: @escaping () throws(SystemError) -> any DirectoryEvents = { () throws(SystemError) in try Inotify() }
    ) {
        self.config = config
        self.clock = clock
        self.consumer = consumer
        self.counters = counters
        self.logger = logger
        discovery = Discovery(paths: config.paths, excludes: config.exclude)
        literalPath = discovery.patterns.count == 1 && discovery.patterns[0].isLiteral ? discovery.patterns[0].spelled : nil
        passBudgetMs = Int64(max(10, min(config.pollIntervalMs, config.checkpointIntervalMs) / 2))
        joinsLines = config.pathSettings.values.contains { $0.multiline != nil }
        watcher = ChangeWatcher(logger: logger, open: events) { counters.inotifyActive.store($0, ordering: .relaxed) }
    }

    deinit {
        // The list holds its files, and they the tally.
        tally.unread.removeAll()
    }

    /// The descriptor that wakes the reading loop on a change; nil while the stat poll runs alone.
    package var eventDescriptor: Int32? { watcher.descriptor }

    /// Resumes what the checkpoint names, then runs the first discovery.
    package func start(from checkpoint: Checkpoint?) throws(SystemError) {
        let scan = discovery.scan(nowNs: clock.wallNs())
        if let checkpoint {
            for file in try CheckpointRestore(server: self).restore(checkpoint, candidates: scan.candidates) { track(file) }
        }
        firstStart = checkpoint == nil
        if let error = reconcile(scan) {
            logger.error(
                "a matching file cannot be opened; the others are followed, and it is tried again at each poll",
                metadata: ["error": "\(error)"])
        }
        firstStart = false
        discovered = true
        nextPollMs = clock.monotonicMs() + Int64(config.pollIntervalMs)
        if files.isEmpty && !config.paths.isEmpty {
            logger.info("waiting for the input files to appear", metadata: ["paths": "\(config.paths.joined(separator: ","))"])
        }
        publish(force: true)
    }

    /// Reads what inotify queued: which directories to list again and which files were written.
    package func drainEvents() {
        let changes = watcher.drain(now: clock.monotonicMs())
        pending.everything = pending.everything || changes.everything
        pending.directories.formUnion(changes.directories)
        pending.written.formUnion(changes.written)
    }

    package enum Pass: Equatable {
        /// Every open file was read to its end.
        case caughtUp
        /// The pass budget ran out with more to read: go again soon, after the loop's own duties.
        case budgetSpent
        /// Delivery was given up (shutdown deadline): nothing more is acknowledged.
        case givenUp
    }

    /// One look: discovery, rotations, truncations, then read what is available, within the pass budget.
    package func cycle() throws(SystemError) -> Pass {
        let now = clock.monotonicMs()
        if settled, now >= nextPollMs, pending.isEmpty, isSettled(), quietTick(now: now) {
            // A report held back by `publish`'s half second is still made: a quiet tick may be all
            // that runs while a failing sink holds the checkpoint back, and the lag must show.
            if reportHeldBack { publish() }
            return .caughtUp
        }
        settled = false
        filesAtRest = nil
        passDeadlineMs = now + passBudgetMs
        defer { publish() }
        let pollDue = now >= nextPollMs
        if pollDue {
            nextPollMs = now + Int64(config.pollIntervalMs)
            pollTicks += 1
            departed.expire(nowMs: now)
        }
        if pending.everything { discovery.invalidate(nil) }
        for directory in pending.directories { discovery.invalidate(directory) }
        var unreadable: SystemError?
        if pollDue || pending.everything || !pending.directories.isEmpty {
            let scan = discovery.scan(nowNs: clock.wallNs())
            if scan.changed { unreadable = reconcile(scan) }
            unreadable = unreadable ?? scan.unreadable.min { $0.key < $1.key }?.value
        }
        watcher.ensure(watchedDirectories, now: clock.monotonicMs())
        if pending.everything || !watcher.isActive {
            for file in files { try check(file) }
        } else if pollDue {
            for (index, file) in files.enumerated() where swept(index, file, tick: pollTicks, now: now) { try check(file) }
        } else {
            // Every event is checked before the read: copytruncate followed by a burst of writes can
            // grow the file past our offset before we look, and only its first bytes then tell.
            for path in pending.written { if let file = byPath[path] { try check(file) } }
            // A rotated file may still be written (a writer that has not reopened yet) under a name
            // no pattern matches: it is looked at on every pass until it is closed.
            for file in detached where file.isOpen { try check(file) }
        }
        pending = DirectoryChanges()
        try openWaiting()
        // Before reading too: while a batch waits on a failing sink, the lag must show what waits.
        publish()
        var pass = try readFairly()
        if pass == .caughtUp {
            closeFinished()
            if !shipQuietRecords() { pass = .givenUp }
        }
        settled = pass == .caughtUp && unreadable == nil
        // The rest was read; the error (a directory or a file that cannot be read) is reported, and the
        // next pass waits a poll interval, all the same.
        if let unreadable { throw unreadable }
        return pass
    }

    /// Whether poll tick `tick` looks at `file`, the `index`-th, while inotify watches: the files of
    /// the tick's share of the sweep, and every file written lately or out of the patterns' sight.
    private func swept(_ index: Int, _ file: TailedFile, tick: Int, now: Int64) -> Bool {
        index % Self.quietSweepTicks == tick % Self.quietSweepTicks || now - file.lastGrowthMs < Self.activeWindowMs || file.path == nil
    }

    /// Nothing in motion: inotify watches every directory, nothing departed, waits or is unacknowledged,
    /// and every file is open at a path the patterns match, read to its end and handed over in full,
    /// with no line or multiline record pending. A poll tick then only has to see that nothing moved.
    private func isSettled() -> Bool {
        guard watcher.watchesAll, departed.isEmpty, unacknowledged.isEmpty, pending.isEmpty else { return false }
        if let filesAtRest { return filesAtRest }
        let atRest = files.allSatisfy { file in
            file.isOpen && file.path != nil && file.atEndOfFile && file.handedOffset == file.readOffset && !file.waiting
                && !file.neverRead && !file.isCopy && file.shadowOf == nil && file.predecessor == nil && file.splitter.pendingBytes == 0
                && file.joiner?.hasPending != true
        }
        filesAtRest = atRest
        return atRest
    }

    /// A poll tick while settled: the stats the full pass would make (discovery's and the sweep's) and
    /// nothing more when they answer as before, which is what a quiet second costs. Each wake-up of an
    /// idle daemon pays for every page of code and data it touches, so this path stays short. False when
    /// something moved or cannot be looked at: the full pass then runs the tick and sees why.
    private func quietTick(now: Int64) -> Bool {
        guard discovery.isQuiet(nowNs: clock.wallNs()) else { return false }
        let tick = pollTicks + 1
        for (index, file) in files.enumerated() where swept(index, file, tick: tick, now: now) {
            guard let descriptor = file.descriptor, let status = try? FileStatus.of(descriptor: descriptor),
                status.size == file.readOffset, status.size == file.checkedSize, status.modifiedNs == file.checkedModifiedNs
            else { return false }
            // What `check` records of a file that did not move.
            file.checkedAtMs = clock.monotonicMs()
            file.knownSize = status.size
        }
        nextPollMs = now + Int64(config.pollIntervalMs)
        pollTicks = tick
        return true
    }

    /// Monotonic ms at which a drained file that left the patterns becomes quiet enough to close.
    package var nextRotationDeadlineMs: Int64? {
        var deadline: Int64?
        for file in detached where file.isOpen && !file.isCopy {
            deadline = min(deadline ?? .max, file.lastGrowthMs + Int64(config.rotateWaitMs))
        }
        return deadline
    }

    /// Every file with a line still missing its newline.
    var filesWithPartialLines: [TailedFile] { files.filter { $0.splitter.pendingBytes > 0 } }

    /// At shutdown: ships each incomplete last line whose file has been quiet for `rotate_wait_ms`;
    /// a line still being written stays behind the checkpoint for the next start to complete.
    package func flushQuietPartialLines() -> Bool {
        // What it ships leaves its files in a state no pass has seen: the next tick is a full pass.
        settled = false
        let now = clock.monotonicMs()
        for file in filesWithPartialLines where now - file.lastGrowthMs >= Int64(config.rotateWaitMs) {
            guard shipPartial(file) else { return false }
        }
        // A pending multiline record goes only if its file has been quiet for its timeout; otherwise
        // it stays behind the checkpoint and the next start reads it again whole.
        return shipQuietRecords()
    }

    /// Monotonic ms when the last pending partial line becomes shippable; nil when there is none.
    package var partialLinesQuietAtMs: Int64? {
        filesWithPartialLines.map { $0.lastGrowthMs + Int64(config.rotateWaitMs) }.max()
    }

    /// An entry per known file, and per departed file whose whereabouts are unknown. Left out: a copy
    /// not yet claimed (its bytes are its original's) and a new file not read yet (found again after a
    /// restart, it gets the same first look).
    package var checkpoint: Checkpoint {
        Checkpoint(entries: files.filter { $0.shadowOf == nil && !$0.neverRead }.map(\.checkpointEntry) + departed.unaccountedEntries)
    }

    /// Whether `checkpoint` is still what `checkpoint` would give, found without building it: the check
    /// of a quiet checkpoint interval. False whenever departed files are kept (then it is built).
    package func checkpointIsCurrent(_ checkpoint: Checkpoint) -> Bool {
        guard departed.isEmpty else { return false }
        var index = 0
        for file in files where file.shadowOf == nil && !file.neverRead {
            guard index < checkpoint.entries.count else { return false }
            let entry = checkpoint.entries[index]
            guard entry.offset == file.handedOffset, entry.identity == file.identity, entry.path == file.origin else { return false }
            index += 1
        }
        return index == checkpoint.entries.count
    }

    /// The checkpoint just written (without a checkpoint file: what every sink acknowledged), which the
    /// lag and the reported offsets count from. An entry beyond what a file was handed is older than
    /// its truncation and says nothing about it.
    package func checkpointed(_ checkpoint: Checkpoint) {
        var offsets: [FileKey: Int64] = [:]
        for entry in checkpoint.entries { offsets[FileKey(entry.identity)] = entry.offset }
        for file in files {
            if let offset = offsets[FileKey(file.identity)], offset <= file.handedOffset { file.checkpointedOffset = offset }
        }
        publish(force: true)
    }

    // MARK: - the set

    /// The files that left the patterns (`path` nil), in the order of `files`: listed again only after
    /// a path changed or a file came or went, not on every pass.
    private var detached: [TailedFile] {
        if tally.pathsMoved {
            detachedFiles = files.filter { $0.path == nil }
            tally.pathsMoved = false
        }
        return detachedFiles
    }

    func track(_ file: TailedFile) {
        let settings = settings(of: file.origin)
        file.format = settings?.format ?? config.format
        file.joiner = joiner(settings)
        file.parser = parser(settings)
        files.append(file)
        byInode[FileKey(file.identity)] = file
        if let path = file.path { byPath[path] = file }
        if file.isOpen { openCount += 1 }
        trackedCount += 1
        file.trackedAs = trackedCount
        tally.add(file)
        file.tally = tally
    }

    /// What the entry of the first pattern that matches `path` sets (`{"path": …, "format": …}`).
    func settings(of path: String) -> SourceSettings? {
        guard let pattern = discovery.patterns.first(where: { $0.matches(path) }) else { return nil }
        return config.pathSettings[pattern.text]
    }

    /// A joiner of its own for a file whose entry has `multiline` (the pattern compiled when the
    /// configuration was loaded, so it compiles again here).
    func joiner(_ settings: SourceSettings?) -> MultilineJoiner? {
        guard let multiline = settings?.multiline else { return nil }
        return try? MultilineJoiner(multiline, maxLineBytes: config.maxLineBytes)
    }

    /// One parser per rule: it holds no state between records, and its pattern is compiled once.
    func parser(_ settings: SourceSettings?) -> LineParser? {
        guard let rule = settings?.parse else { return nil }
        if let known = parsers[rule] { return known }
        // The configuration compiled the pattern when it was loaded, so it compiles again here.
        let parser = try? LineParser(rule)
        parsers[rule] = parser
        return parser
    }

    func forget(_ file: TailedFile) {
        tally.remove(file)
        file.tally = nil
        if file.isOpen { openCount -= 1 }
        file.close()
        files.removeAll { $0 === file }
        if byInode[FileKey(file.identity)] === file { byInode[FileKey(file.identity)] = nil }
        if let path = file.path, byPath[path] === file { byPath[path] = nil }
    }

    /// Files that left every pattern (renamed away, deleted) are closed once read to their end and
    /// unwritten for `rotate_wait_ms` (a writer may still hold them), so their space is freed.
    private func closeFinished() {
        let now = clock.monotonicMs()
        for file in detached where file.isOpen && file.atEndOfFile {
            guard file.isCopy || now - file.lastGrowthMs >= Int64(config.rotateWaitMs) else { continue }
            guard shipPartial(file) else { continue }
            logger.debug("closed a drained file", metadata: ["path": "\(file.lastPath)"])
            retire(file, unaccounted: false)
        }
    }

    // MARK: - reading

    private func readFairly() throws(SystemError) -> Pass {
        let passStartMs = clock.monotonicMs()
        while true {
            // Only files with something to read take part: with a thousand quiet files a pass stays cheap.
            let ready = unreadFiles().filter { $0.isOpen && $0.shadowOf == nil }
            var progressed = false
            let count = ready.count
            for step in 0..<count {
                let index = (roundStart + step) % count
                let file = ready[index]
                guard !file.atEndOfFile, predecessorDone(file) else { continue }
                if file.neverRead {
                    guard try decideNew(file) else { continue }
                }
                consumer.begin(.file(origin: file.origin), format: file.format, parser: file.parser, origins: file.origins())
                for _ in 0..<Self.readsPerTurn {
                    guard try readOnce(file) else {
                        // Nothing there: a file that shrank below our offset was truncated.
                        if file.checkedAtMs < passStartMs && !file.neverRead {
                            try check(file)
                            if !file.atEndOfFile { progressed = true }
                        }
                        break
                    }
                    progressed = true
                    if batchedBytes >= RecordBatch.inputBytes {
                        guard flush() else { return .givenUp }
                        if let pass = outOfTime(next: index + 1) { return pass }
                    }
                    if file.atEndOfFile { break }
                }
            }
            guard flush() else { return .givenUp }
            if !progressed { return .caughtUp }
            if let pass = outOfTime(next: roundStart + 1) { return pass }
        }
    }

    /// The files not read to their end, in the order they were found (that of `files`): the tally's
    /// list, without the files read to their end or forgotten since they were listed.
    private func unreadFiles() -> [TailedFile] {
        tally.unread.removeAll { file in
            guard file.atEndOfFile || file.tally !== tally else { return false }
            file.listedUnread = false
            return true
        }
        tally.unread.sort { $0.trackedAs < $1.trackedAs }
        return tally.unread
    }

    private func outOfTime(next: Int) -> Pass? {
        if drainDeadlinePassed() { return .givenUp }
        guard clock.monotonicMs() >= passDeadlineMs else { return nil }
        roundStart = next
        return .budgetSpent
    }

    /// A file that took a rotated file's path is read once the rotated one has been read to its end.
    private func predecessorDone(_ file: TailedFile) -> Bool {
        guard let before = file.predecessor else { return true }
        if !before.isOpen || before.atEndOfFile || before.shadowOf != nil {
            file.predecessor = nil
            return true
        }
        return false
    }

    /// One read of `file` into the batch; false at its end.
    private func readOnce(_ file: TailedFile) throws(SystemError) -> Bool {
        guard let descriptor = file.descriptor else { return false }
        let (count, short) = try file.splitter.readSome(from: descriptor)
        if count == 0 || short { file.atEndOfFile = true }
        if count == 0 { return false }
        if file.fingerprintIsShort { file.extendFingerprint(with: file.splitter.lastRead(count), at: file.readOffset) }
        file.readOffset += Int64(count)
        file.knownSize = max(file.knownSize, file.readOffset)
        file.lastGrowthMs = clock.monotonicMs()
        if let joiner = file.joiner {
            joiner.takeLines(from: file.splitter, into: consumer, read: count, counters: counters)
        } else {
            consumer.takeLines(from: file.splitter, read: count, counters: counters)
        }
        unacknowledged.append((file, file.readOffset - Int64(file.unhandedBytes)))
        batchedBytes += count
        return true
    }

    /// Lines read into the batch and not delivered yet.
    var hasUnflushedReads: Bool { !unacknowledged.isEmpty }

    /// Delivers the batch; on success every file read into it is acknowledged up to what it gave.
    func flush() -> Bool {
        batchedBytes = 0
        guard consumer.deliver() else {
            unacknowledged.removeAll()
            return false
        }
        for (file, offset) in unacknowledged { file.handedOffset = offset }
        unacknowledged.removeAll()
        return true
    }

    /// Ships an incomplete last line, and the multiline record pending before it (the file is done,
    /// or the line has been quiet long enough).
    func shipPartial(_ file: TailedFile) -> Bool {
        guard file.unhandedBytes > 0 else { return true }
        let end = file.readOffset
        consumer.begin(.file(origin: file.origin), format: file.format, parser: file.parser, origins: file.origins())
        if file.splitter.pendingBytes > 0 { counters.add(counters.partialLines, 1) }
        if let joiner = file.joiner {
            // The last line joins the record before it as any line does; both then go.
            file.splitter.takePartial { line in joiner.take(line) { consumer.consume($0, partial: true) } }
            joiner.flush { consumer.consume($0, partial: false) }
            joiner.publish(to: counters)
        } else {
            file.splitter.takePartial { consumer.consume($0, partial: true) }
        }
        guard consumer.deliver() else { return false }
        file.handedOffset = end
        return true
    }

    /// Ships the multiline records whose files have had no new bytes for `timeout_ms`: a record goes
    /// when its file is quiet, never while there is more of it to read.
    private func shipQuietRecords() -> Bool {
        guard joinsLines else { return true }
        let now = clock.monotonicMs()
        var shipped = false
        for file in files {
            guard let joiner = file.joiner, joiner.hasPending, file.atEndOfFile, file.splitter.pendingBytes == 0,
                now - file.lastGrowthMs >= joiner.timeoutMs
            else { continue }
            consumer.begin(.file(origin: file.origin), format: file.format, parser: file.parser, origins: file.origins())
            joiner.flush { consumer.consume($0, partial: false) }
            joiner.publish(to: counters)
            unacknowledged.append((file, file.readOffset))
            shipped = true
        }
        return !shipped || flush()
    }

    /// Monotonic ms at which the first pending multiline record has been quiet for its timeout.
    package var nextQuietRecordMs: Int64? {
        guard joinsLines else { return nil }
        var due: Int64?
        for file in files {
            if let joiner = file.joiner, joiner.hasPending { due = min(due ?? .max, file.lastGrowthMs + joiner.timeoutMs) }
        }
        return due
    }

    // MARK: - reporting

    /// Gauges, lag and readiness after a pass; the per-file list for `/health` at most twice a second.
    private func publish(force: Bool = false) {
        counters.lagBytes.store(Int(tally.lagBytes), ordering: .relaxed)
        counters.filesFollowed.store(openCount, ordering: .relaxed)
        counters.filesWaiting.store(tally.waiting, ordering: .relaxed)
        let current = literalPath.flatMap { byPath[$0] }
        let ready = discovered && (literalPath == nil || current != nil)
        counters.following.store(ready, ordering: .relaxed)
        counters.checkpointOffset.store(Int(current?.checkpointedOffset ?? files.last?.checkpointedOffset ?? 0), ordering: .relaxed)
        let now = clock.monotonicMs()
        guard force || now - lastReportMs >= 500 else {
            reportHeldBack = true
            return
        }
        lastReportMs = now
        reportHeldBack = false
        let report = files.prefix(Counters.reportedFiles).map {
            FileReport(path: $0.path ?? $0.lastPath, origin: $0.origin, offset: $0.checkpointedOffset, lag: $0.lagBytes, open: $0.isOpen)
        }
        counters.files.withLock { $0 = report }
    }
}
