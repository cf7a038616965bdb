import Logging

/// What a source of directory events offers; `Inotify` is the real one, tests script their own.
protocol DirectoryEvents: AnyObject {
    var descriptor: Int32 { get }
    func watch(_ path: String, mask: UInt32) throws(SystemError) -> Int32?
    func removeWatch(_ wd: Int32)
    func drain() throws(SystemError) -> Inotify.Drained
}

extension Inotify: DirectoryEvents {}

/// inotify as a hint, never a requirement: when the instance cannot be created (EMFILE: the per-UID
/// limit is shared by every container of that UID on a node), a watch cannot be added (ENOSPC:
/// `max_user_watches`) or a read fails, the follower goes on with its stat poll alone, says so once,
/// and tries inotify again every `retryIntervalMs`.
final class ChangeWatcher {
    let directory: String
    let logger: Logger
    let retryIntervalMs: Int64
    private let open: () throws(SystemError) -> any DirectoryEvents
    private let reportActive: (Bool) -> Void
    private var events: (any DirectoryEvents)?
    private var directoryWatch: Int32?
    private var retryAtMs: Int64 = 0
    /// Whether the last attempt failed: the warning is logged once per fallback, not per attempt.
    private var degraded = false

    init(
        directory: String, logger: Logger, retryIntervalMs: Int64 = 5_000,
        open: @escaping () throws(SystemError) -> any DirectoryEvents = { () throws(SystemError) in try Inotify() },
        reportActive: @escaping (Bool) -> Void
    ) {
        self.directory = directory
        self.logger = logger
        self.retryIntervalMs = retryIntervalMs
        self.open = open
        self.reportActive = reportActive
    }

    /// The descriptor to poll for events; nil while only the stat poll is running.
    var descriptor: Int32? { directoryWatch == nil ? nil : events?.descriptor }

    var isActive: Bool { directoryWatch != nil }

    /// Sets up the instance and the directory watch if they are missing and the retry time has come.
    func ensure(now: Int64 = MonotonicClock.milliseconds()) {
        guard directoryWatch == nil, now >= retryAtMs else { return }
        do throws(SystemError) {
            let events: any DirectoryEvents
            if let existing = self.events { events = existing } else { events = try open() }
            self.events = events
            directoryWatch = try events.watch(directory, mask: Inotify.directoryMask)
            if directoryWatch != nil && degraded {
                degraded = false
                logger.notice("inotify works again; events are back", metadata: ["directory": "\(directory)"])
            }
        } catch {
            fallBack(error, now: now)
        }
        reportActive(isActive)
    }

    /// Reads what inotify queued; only whether to look again matters.
    func drain(now: Int64 = MonotonicClock.milliseconds()) {
        guard let events, directoryWatch != nil else { return }
        do throws(SystemError) {
            let drained = try events.drain()
            if drained.overflowed { logger.warning("inotify queue overflowed; re-checking the files") }
            if drained.watchLost, let watch = directoryWatch {
                events.removeWatch(watch)
                directoryWatch = nil
                reportActive(false)
            }
        } catch {
            fallBack(error, now: now)
            reportActive(false)
        }
    }

    private func fallBack(_ error: SystemError, now: Int64) {
        if let watch = directoryWatch { events?.removeWatch(watch) }
        directoryWatch = nil
        // A failed instance is dropped: the next attempt starts afresh (and frees its descriptor now).
        events = nil
        retryAtMs = now + retryIntervalMs
        if !degraded {
            degraded = true
            logger.warning(
                "inotify unavailable; following by stat poll alone, retrying inotify every \(retryIntervalMs) ms",
                metadata: ["error": "\(error)", "directory": "\(directory)"])
        }
    }
}
